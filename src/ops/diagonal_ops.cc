// Ops defined by a matrix's diagonals, over the last two axes: Trilu (keep one
// side of the k-th diagonal, as torch.triu / torch.tril) and EyeLike (ones on
// the k-th diagonal). Both only place elements, so one byte-moving
// implementation serves every dtype, float16 and bfloat16 included.
#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// The k input of Trilu: an int64 scalar (0-D, or 1-D of one element as some
// exporters write it); absent means 0.
Result<int64_t> diagonal_offset(const Tensor* k) {
  if (!k) return int64_t{0};
  if (k->dtype() != DataType::kInt64 || k->num_elements() != 1 || k->rank() > 1) {
    return bad_input("input 'k' must be an int64 scalar, got " + describe(*k));
  }
  return k->data<int64_t>()[0];
}

// Rows i of a rows x cols matrix keep the columns j with j - i >= k (upper) or
// j - i <= k (lower); everything else is zero. k is clamped first, so i + k
// cannot overflow whatever int64 the model feeds.
class Trilu final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t upper, node.attrs().get_int("upper", 1));
    if (upper != 0 && upper != 1) return invalid_model("attribute 'upper' must be 0 or 1, got " + std::to_string(upper));
    upper_ = upper == 1;
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() < 2) return bad_input("input 'input' must have rank >= 2, got " + describe(x));
    OM_ASSIGN_OR_RETURN(int64_t k, diagonal_offset(ctx.num_inputs() > 1 ? ctx.input(1) : nullptr));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    const int64_t rows = x.shape()[x.rank() - 2], cols = x.shape()[x.rank() - 1];
    const int64_t matrices = rows * cols == 0 ? 0 : x.num_elements() / (rows * cols);
    k = std::clamp(k, -rows - 1, cols + 1);
    const size_t es = dtype_size(x.dtype());
    const auto* src = static_cast<const uint8_t*>(x.raw_data());
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    for (int64_t m = 0; m < matrices; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        const size_t row = static_cast<size_t>((m * rows + i) * cols) * es;
        // Columns [first, last) are kept.
        const int64_t first = upper_ ? std::clamp(i + k, int64_t{0}, cols) : 0;
        const int64_t last = upper_ ? cols : std::clamp(i + k + 1, int64_t{0}, cols);
        std::memset(dst + row, 0, static_cast<size_t>(cols) * es);
        if (last > first) {
          std::memcpy(dst + row + static_cast<size_t>(first) * es, src + row + static_cast<size_t>(first) * es,
                      static_cast<size_t>(last - first) * es);
        }
      }
    }
    return Status::ok();
  }

 private:
  bool upper_ = true;
};

Status infer_trilu(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  if (x->has_shape && x->dims.size() < 2) {
    return invalid_model("input 'input' must have rank >= 2, got rank " + std::to_string(x->dims.size()));
  }
  if (const TensorInfo* k = node.input(1); k && k->dtype != DataType::kUndefined && k->dtype != DataType::kInt64) {
    return invalid_model("input 'k' must be int64, got " + dtype_name(k->dtype));
  }
  return infer_same_as_input0(node, outputs);
}

// EyeLike's types (input and output alike, opset 9): every numeric type but
// bfloat16, and bool.
bool eye_like_type(DataType t) {
  switch (t) {
    case DataType::kFloat16: case DataType::kFloat: case DataType::kDouble:
    case DataType::kInt8: case DataType::kInt16: case DataType::kInt32: case DataType::kInt64:
    case DataType::kUInt8: case DataType::kUInt16: case DataType::kUInt32: case DataType::kUInt64:
    case DataType::kBool:
      return true;
    default:
      return false;
  }
}

// The output dtype: attribute 'dtype' when given, else the input's.
Result<DataType> eye_like_dtype(const NodeInfo& node, DataType input) {
  if (!node.attrs().has("dtype")) return input;
  OM_ASSIGN_OR_RETURN(int64_t code, node.attrs().get_int("dtype", 0));
  const DataType t = code < 0 || code > 1000 ? DataType::kUndefined : dtype_from_onnx(static_cast<int32_t>(code));
  if (!eye_like_type(t)) return invalid_model("attribute 'dtype' " + std::to_string(code) + " is not a type EyeLike produces");
  return t;
}

// The bytes of the value one in `t` (its size is dtype_size(t)).
void write_one(DataType t, uint8_t* dst) {
  if (t == DataType::kFloat16) {
    const uint16_t one = float_to_half(1.0f);
    std::memcpy(dst, &one, sizeof one);
    return;
  }
  dispatch_dtype(t, [&](auto tag) {
    const decltype(tag) one = 1;
    std::memcpy(dst, &one, sizeof one);
  });
}

class EyeLike final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(k_, node.attrs().get_int("k", 0));
    if (node.attrs().has("dtype")) {
      OM_ASSIGN_OR_RETURN(dtype_, eye_like_dtype(node, DataType::kUndefined));
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    if (x.rank() != 2) return bad_input("input 'input' must be 2-D, got " + describe(x));
    if (!eye_like_type(x.dtype())) return unsupported("input 'input' of dtype " + dtype_name(x.dtype()));
    const DataType t = dtype_ == DataType::kUndefined ? x.dtype() : dtype_;
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), t));
    const int64_t rows = x.shape()[0], cols = x.shape()[1];
    const size_t es = dtype_size(t);
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    std::memset(dst, 0, static_cast<size_t>(y->num_elements()) * es);
    // Row i holds its one at column i + k; rows whose column falls outside hold none.
    const int64_t k = std::clamp(k_, -rows, cols);
    for (int64_t i = std::max<int64_t>(0, -k); i < rows && i + k < cols; ++i) {
      write_one(t, dst + static_cast<size_t>(i * cols + i + k) * es);
    }
    return Status::ok();
  }

 private:
  int64_t k_ = 0;
  DataType dtype_ = DataType::kUndefined;  // undefined: the input's
};

Status infer_eye_like(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  if (x->has_shape && x->dims.size() != 2) {
    return invalid_model("input 'input' must be 2-D, got rank " + std::to_string(x->dims.size()));
  }
  OM_ASSIGN_OR_RETURN(DataType t, eye_like_dtype(node, x->dtype));
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  outputs[0].dtype = t;
  return Status::ok();
}

}  // namespace

void register_diagonal_ops(OpRegistry& r) {
  r.add({.op_type = "Trilu", .since_version = 14, .min_inputs = 1, .max_inputs = 2, .attributes = {"upper"},
         .infer = infer_trilu, .create = make_kernel<Trilu>(), .half_types = HalfTypes::kNative});
  r.add({.op_type = "EyeLike", .since_version = 9, .attributes = {"dtype", "k"}, .infer = infer_eye_like,
         .create = make_kernel<EyeLike>(), .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
