// Index-driven ops: Gather, GatherElements, OneHot. Every index read from a
// tensor is range-checked (negative indices count from the end) before use;
// an error names the input, the position and the bad value.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "ops/broadcast.h"
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Index i of an int32/int64 indices tensor, normalised into [0, dim).
Result<int64_t> checked_index(const Tensor& idx, int64_t i, int64_t dim, const char* input_name) {
  int64_t v = idx.dtype() == DataType::kInt64 ? idx.data<int64_t>()[i] : idx.data<int32_t>()[i];
  if (v < -dim || v >= dim) {
    return bad_input(std::string("input '") + input_name + "': index " + std::to_string(v) + " at position " +
                     std::to_string(i) + " is out of range [" + std::to_string(-dim) + ", " + std::to_string(dim) + ")");
  }
  return v < 0 ? v + dim : v;
}

Status check_index_dtype(const Tensor& idx) {
  if (idx.dtype() != DataType::kInt64 && idx.dtype() != DataType::kInt32) {
    return bad_input("input 'indices' must be int32 or int64, got " + dtype_name(idx.dtype()));
  }
  return Status::ok();
}

Result<Shape> gather_shape(const Shape& data, const Shape& indices, int64_t axis) {
  Shape out(data.begin(), data.begin() + axis);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  return out;
}

class Gather final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 0));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& idx = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_index_dtype(idx));
    auto a = normalize_axis(axis_, data.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    const int64_t axis = a.value();
    OM_ASSIGN_OR_RETURN(Shape shape, gather_shape(data.shape(), idx.shape(), axis));
    OM_RETURN_IF_ERROR(check_runtime_shape(shape).with_context("output: "));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, data.dtype()));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= data.dim(d);
    for (int64_t d = axis + 1; d < data.rank(); ++d) inner *= data.dim(d);
    const int64_t dim = data.dim(axis), n_idx = idx.num_elements();
    const size_t block = static_cast<size_t>(inner) * dtype_size(data.dtype());
    // Check every index first: nothing is read before all are known to be in range.
    std::vector<int64_t> norm(static_cast<size_t>(n_idx));
    for (int64_t i = 0; i < n_idx; ++i) {
      OM_ASSIGN_OR_RETURN(norm[static_cast<size_t>(i)], checked_index(idx, i, dim, "indices"));
    }
    const auto* src = static_cast<const uint8_t*>(data.raw_data());
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    if (block == 0) return Status::ok();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < n_idx; ++i) {
        std::memcpy(dst + static_cast<size_t>(o * n_idx + i) * block,
                    src + static_cast<size_t>(o * dim + norm[static_cast<size_t>(i)]) * block, block);
      }
    }
    return Status::ok();
  }

 private:
  int64_t axis_ = 0;
};

Status infer_gather(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* data = node.input(0);
  const TensorInfo* idx = node.input(1);
  outputs[0].dtype = data->dtype;
  if (!data->has_shape || !idx->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", 0));
  auto a = normalize_axis(axis, static_cast<int64_t>(data->dims.size()));
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  const auto ax = static_cast<size_t>(a.value());
  outputs[0].has_shape = true;
  outputs[0].dims.assign(data->dims.begin(), data->dims.begin() + static_cast<std::ptrdiff_t>(ax));
  outputs[0].dims.insert(outputs[0].dims.end(), idx->dims.begin(), idx->dims.end());
  outputs[0].dims.insert(outputs[0].dims.end(), data->dims.begin() + static_cast<std::ptrdiff_t>(ax) + 1, data->dims.end());
  return Status::ok();
}

// GatherElements: out[i_0..i_k..] = data[i_0..indices[i]..] along `axis`.
class GatherElements final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", 0));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& data = *ctx.input(0);
    const Tensor& idx = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_index_dtype(idx));
    if (idx.rank() != data.rank()) {
      return bad_input("input 'indices' has rank " + std::to_string(idx.rank()) + ", input 'data' has rank " +
                       std::to_string(data.rank()));
    }
    auto a = normalize_axis(axis_, data.rank());
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    const int64_t axis = a.value();
    for (int64_t d = 0; d < data.rank(); ++d) {
      if (d != axis && idx.dim(d) > data.dim(d)) {
        return bad_input("input 'indices' " + shape_to_string(idx.shape()) + " is larger than input 'data' " +
                         shape_to_string(data.shape()) + " on axis " + std::to_string(d));
      }
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, idx.shape(), data.dtype()));
    // The data offset of each output element, without the axis term; the axis term comes from the index.
    std::vector<int64_t> dstr = strides_of(data.shape());
    const int64_t axis_stride = dstr[static_cast<size_t>(axis)];
    dstr[static_cast<size_t>(axis)] = 0;
    std::vector<int64_t> offsets(static_cast<size_t>(idx.num_elements()));
    Status st;
    for_each_broadcast<1>(idx.shape(), {dstr}, [&](int64_t i, const std::array<int64_t, 1>& o) {
      if (!st.is_ok()) return;
      auto v = checked_index(idx, i, data.dim(axis), "indices");
      if (!v.is_ok()) { st = v.status(); return; }
      offsets[static_cast<size_t>(i)] = o[0] + v.value() * axis_stride;
    });
    OM_RETURN_IF_ERROR(st);
    const size_t es = dtype_size(data.dtype());
    const auto* src = static_cast<const uint8_t*>(data.raw_data());
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    for (size_t i = 0; i < offsets.size(); ++i) std::memcpy(dst + i * es, src + static_cast<size_t>(offsets[i]) * es, es);
    return Status::ok();
  }

 private:
  int64_t axis_ = 0;
};

Status infer_gather_elements(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  outputs[0] = *node.input(1);
  outputs[0].constant = nullptr;
  outputs[0].dtype = node.input(0)->dtype;
  return Status::ok();
}

// Reads element i of any numeric tensor as int64 (OneHot accepts float indices and depth).
int64_t read_as_int64(const Tensor& t, int64_t i) {
  int64_t v = 0;
  dispatch_dtype(t.dtype(), [&](auto tag) { v = convert_value<int64_t>(t.data<decltype(tag)>()[i]); });
  return v;
}

// OneHot index i as an int64, or nullopt for a NaN float index: NaN names no
// position, so like any other index outside the range it gives an all-off row
// (as the ONNX reference's astype(int64) does on x86, where NaN becomes
// INT64_MIN; convert_value would turn it into a valid 0). ±Inf and huge floats
// saturate, which is out of range too; fractions truncate toward zero.
std::optional<int64_t> read_one_hot_index(const Tensor& t, int64_t i) {
  std::optional<int64_t> v;
  dispatch_dtype(t.dtype(), [&](auto tag) {
    const auto x = t.data<decltype(tag)>()[i];
    if constexpr (std::is_floating_point_v<decltype(x)>) {
      if (std::isnan(x)) return;
    }
    v = convert_value<int64_t>(x);
  });
  return v;
}

// OneHot's depth: a positive number (a float is truncated, as the reference's
// astype(int64)); NaN and values below 1 are bad input, and a huge depth (1e30,
// inf) saturates to INT64_MAX for the size check to refuse as a limit.
Result<int64_t> read_depth(const Tensor& depth_t) {
  if (depth_t.dtype() == DataType::kFloat16 || depth_t.dtype() == DataType::kBFloat16) {
    return unsupported("input 'depth' of dtype " + dtype_name(depth_t.dtype()));
  }
  if (dtype_is_float(depth_t.dtype())) {
    double d = 0;
    dispatch_dtype(depth_t.dtype(), [&](auto tag) { d = static_cast<double>(depth_t.data<decltype(tag)>()[0]); });
    if (std::isnan(d)) return bad_input("input 'depth' is NaN");
    if (d < 1) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", d);
      return bad_input(std::string("input 'depth': ") + buf + " is not positive");
    }
  }
  const int64_t depth = read_as_int64(depth_t, 0);
  if (depth < 1) return bad_input("input 'depth': " + std::to_string(depth) + " is not positive");
  return depth;
}

// OneHot(indices, depth, values=[off, on]); indices outside [-depth, depth)
// (opset 11+) or [0, depth) (OneHot-9: no negative indices) give all-off rows.
class OneHot final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", -1));
    negative_ok_ = node.since_version >= 11;
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& idx = *ctx.input(0);
    const Tensor& depth_t = *ctx.input(1);
    const Tensor& values = *ctx.input(2);
    if (depth_t.num_elements() != 1) return bad_input("input 'depth' must hold one value, got " + describe(depth_t));
    if (values.num_elements() != 2) return bad_input("input 'values' must hold [off, on], got " + describe(values));
    if (idx.dtype() == DataType::kBool || depth_t.dtype() == DataType::kBool) return bad_input("bool indices/depth");
    OM_ASSIGN_OR_RETURN(const int64_t depth, read_depth(depth_t));
    auto a = normalize_axis(axis_, idx.rank() + 1);
    if (!a.is_ok()) return bad_input("attribute 'axis': " + a.status().message());
    const int64_t axis = a.value();
    Shape shape = idx.shape();
    shape.insert(shape.begin() + axis, depth);
    OM_RETURN_IF_ERROR(check_runtime_shape(shape).with_context("input 'depth': output "));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, values.dtype()));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= idx.dim(d);
    for (int64_t d = axis; d < idx.rank(); ++d) inner *= idx.dim(d);
    const size_t es = dtype_size(values.dtype());
    const auto* off = static_cast<const uint8_t*>(values.raw_data());
    const uint8_t* on = off + es;
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    for (int64_t i = 0; i < y->num_elements(); ++i) std::memcpy(dst + static_cast<size_t>(i) * es, off, es);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < inner; ++j) {
        const std::optional<int64_t> index = read_one_hot_index(idx, o * inner + j);
        if (!index) continue;
        int64_t v = *index;
        if (v < (negative_ok_ ? -depth : 0) || v >= depth) continue;
        if (v < 0) v += depth;
        std::memcpy(dst + static_cast<size_t>((o * depth + v) * inner + j) * es, on, es);
      }
    }
    return Status::ok();
  }

 private:
  int64_t axis_ = -1;
  bool negative_ok_ = true;
};

Status infer_one_hot(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* idx = node.input(0);
  outputs[0].dtype = node.input(2)->dtype;
  const TensorInfo* depth = node.input(1);
  if (!idx->has_shape) return Status::ok();
  OM_ASSIGN_OR_RETURN(int64_t axis, node.attrs().get_int("axis", -1));
  auto a = normalize_axis(axis, static_cast<int64_t>(idx->dims.size()) + 1);
  if (!a.is_ok()) return invalid_model("attribute 'axis': " + a.status().message());
  Dim d;
  if (depth->constant && depth->constant->num_elements() == 1) d.value = std::max<int64_t>(-1, read_as_int64(*depth->constant, 0));
  outputs[0].has_shape = true;
  outputs[0].dims = idx->dims;
  outputs[0].dims.insert(outputs[0].dims.begin() + a.value(), d);
  return Status::ok();
}

}  // namespace

void register_gather_ops(OpRegistry& r) {
  // Gather and GatherElements copy elements: float16/bfloat16 natively. 11
  // allowed negative indices (the kernels always did), 13 widened the types.
  r.add({.op_type = "Gather", .since_version = 1, .min_inputs = 2, .max_inputs = 2, .attributes = {"axis"},
         .infer = infer_gather, .create = make_kernel<Gather>(), .also_since = {11, 13},
         .half_types = HalfTypes::kNative});
  r.add({.op_type = "GatherElements", .since_version = 11, .min_inputs = 2, .max_inputs = 2, .attributes = {"axis"},
         .infer = infer_gather_elements, .create = make_kernel<GatherElements>(), .also_since = {13},
         .half_types = HalfTypes::kNative});
  r.add({.op_type = "OneHot", .since_version = 9, .min_inputs = 3, .max_inputs = 3, .attributes = {"axis"},
         .infer = infer_one_hot, .create = make_kernel<OneHot>()});
  r.add({.op_type = "OneHot", .since_version = 11, .min_inputs = 3, .max_inputs = 3, .attributes = {"axis"},
         .infer = infer_one_hot, .create = make_kernel<OneHot>()});
}

}  // namespace onnx_mini
