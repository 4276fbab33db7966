// Pad: constant, reflect, edge and (opset 19) wrap, any rank, any element
// type from opset 11 (moved as raw bytes), negative pads cropping.
//   1:  attribute "paddings", "mode", "value";   2: renamed "pads";
//   11: pads and constant_value as inputs;        13: bfloat16 (no change here);
//   18: optional axes input naming the padded axes; 19: mode "wrap"; 21: types.
// Every output row (all axes but the last) maps to one source row, or to
// padding when a constant-mode axis is outside the input; the last axis is
// copied as [left padding][memcpy of the kept input][right padding].
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Ranks above this are refused (real models pad rank <= 5): per-run index
// arithmetic then lives in fixed arrays, never on the heap.
constexpr int kMaxPadRank = 12;

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

Result<PadMode> parse_mode(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(std::string mode, node.attrs().get_string("mode", "constant"));
  if (mode == "constant") return PadMode::kConstant;
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap" && node.since_version >= 19) return PadMode::kWrap;
  return invalid_model("attribute 'mode' is '" + mode + "', expected constant, reflect, edge" +
                       (node.since_version >= 19 ? " or wrap" : " (wrap arrives at opset 19)"));
}

// Begin and end pads per axis of one run.
struct Pads {
  int rank = 0;
  std::array<int64_t, kMaxPadRank> begin{}, end{};
};

// pads ([2 * axes] begins then ends) spread over the tensor's axes; axes
// (opset 18) name which axes they pad, negative counting from the end.
Result<Pads> spread_pads(std::span<const int64_t> pads, std::span<const int64_t> axes, bool has_axes, int64_t rank) {
  if (rank > kMaxPadRank) {
    return unsupported("input 'data' has rank " + std::to_string(rank) + "; Pad runs up to rank " +
                       std::to_string(kMaxPadRank));
  }
  const size_t count = has_axes ? axes.size() : static_cast<size_t>(rank);
  if (pads.size() != 2 * count) {
    return invalid_model("pads has " + std::to_string(pads.size()) + " values; expected " + std::to_string(2 * count) +
                         " (2 x " + (has_axes ? "the axes count " : "the rank ") + std::to_string(count) + ")");
  }
  Pads p;
  p.rank = static_cast<int>(rank);
  std::array<bool, kMaxPadRank> seen{};
  for (size_t i = 0; i < count; ++i) {
    int64_t axis = has_axes ? axes[i] : static_cast<int64_t>(i);
    if (axis < -rank || axis >= rank) {
      return invalid_model("axes value " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    if (axis < 0) axis += rank;
    const size_t a = static_cast<size_t>(axis);
    if (seen[a]) return invalid_model("axes names axis " + std::to_string(axis) + " twice");
    seen[a] = true;
    p.begin[a] = pads[i];
    p.end[a] = pads[i + count];
  }
  return p;
}

// Output size per axis, with the checks that make it meaningful.
Result<int64_t> padded_size(int64_t in, int64_t begin, int64_t end, int axis, PadMode mode) {
  const int64_t out = in + begin + end;
  if (std::abs(begin) > kMaxTensorElements || std::abs(end) > kMaxTensorElements || out < 0) {
    return invalid_model("axis " + std::to_string(axis) + ": input size " + std::to_string(in) + " padded by " +
                         std::to_string(begin) + " and " + std::to_string(end) + " gives " + std::to_string(out));
  }
  if (in == 0 && mode != PadMode::kConstant && (begin > 0 || end > 0)) {
    return invalid_model("axis " + std::to_string(axis) + " is empty: there is nothing to reflect, repeat or wrap");
  }
  return out;
}

// Source index along an axis of size n for output position i (i - begin may be
// outside [0, n)); -1 means the constant.
int64_t source_index(int64_t j, int64_t n, PadMode mode) {
  if (j >= 0 && j < n) return j;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return j < 0 ? 0 : n - 1;
    case PadMode::kWrap: return ((j % n) + n) % n;
    case PadMode::kReflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);  // numpy's reflect, repeated for pads wider than the axis
      int64_t k = ((j % period) + period) % period;
      return k < n ? k : period - k;
    }
  }
  return -1;
}

// ---- pads and constant value of one node (attributes or inputs) -----------

struct PadInputs {
  std::span<const int64_t> pads, axes;
  bool has_axes = false;
};

Status read_int64_input(const Tensor* t, const char* name, std::span<const int64_t>& out) {
  if (t->dtype() != DataType::kInt64 || t->rank() != 1) {
    return bad_input(std::string("input '") + name + "' is " + describe(*t) + "; expected a 1-D int64 tensor");
  }
  out = {t->data<int64_t>(), static_cast<size_t>(t->num_elements())};
  return Status::ok();
}

class Pad final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(mode_, parse_mode(node));
    from_inputs_ = node.since_version >= 11;
    if (!from_inputs_) {
      OM_ASSIGN_OR_RETURN(attr_pads_, node.attrs().require_ints(node.since_version < 2 ? "paddings" : "pads"));
      OM_ASSIGN_OR_RETURN(attr_value_, node.attrs().get_float("value", 0.0f));
    }
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    PadInputs in;
    if (from_inputs_) {
      OM_RETURN_IF_ERROR(read_int64_input(ctx.input(1), "pads", in.pads));
      const Tensor* axes = ctx.num_inputs() > 3 ? ctx.input(3) : nullptr;
      if (axes) OM_RETURN_IF_ERROR(read_int64_input(axes, "axes", in.axes));
      in.has_axes = axes != nullptr;
    } else {
      if (x.dtype() != DataType::kFloat) return unsupported("input 'data' is " + dtype_name(x.dtype()) + ", not float");
      in.pads = attr_pads_;
    }
    Result<Pads> pads = spread_pads(in.pads, in.axes, in.has_axes, x.rank());
    if (!pads.is_ok()) return Status(pads.status().code() == ErrorCode::kUnsupported ? ErrorCode::kUnsupported
                                                                                      : ErrorCode::kBadInput,
                                     pads.status().message());
    std::array<int64_t, kMaxPadRank> out_dims{};
    for (int a = 0; a < pads->rank; ++a) {
      const size_t i = static_cast<size_t>(a);
      Result<int64_t> n = padded_size(x.dim(a), pads->begin[i], pads->end[i], a, mode_);
      if (!n.is_ok()) return bad_input(n.status().message());
      out_dims[i] = *n;
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output_dims(0, {out_dims.data(), static_cast<size_t>(x.rank())}, x.dtype()));
    std::array<unsigned char, 8> value{};
    OM_RETURN_IF_ERROR(constant_bytes(ctx, x.dtype(), value));
    if (y->num_elements() == 0) return Status::ok();
    if (x.rank() == 0) {
      std::memcpy(y->raw_data(), x.raw_data(), x.byte_size());
      return Status::ok();
    }
    pad_rows(x, *y, *pads, value.data());
    return Status::ok();
  }

 private:
  // The pad value as the element's bytes: the constant_value input (same type
  // as data), or the float attribute before opset 11, or zero.
  Status constant_bytes(KernelContext& ctx, DataType t, std::array<unsigned char, 8>& out) const {
    const size_t size = dtype_size(t);
    if (size == 0 || size > out.size()) return unsupported("input 'data' is " + dtype_name(t));
    if (!from_inputs_) {
      std::memcpy(out.data(), &attr_value_, sizeof(float));
      return Status::ok();
    }
    const Tensor* v = ctx.num_inputs() > 2 ? ctx.input(2) : nullptr;
    if (v == nullptr || mode_ != PadMode::kConstant) return Status::ok();
    if (v->dtype() != t || v->num_elements() != 1) {
      return bad_input("input 'constant_value' is " + describe(*v) + "; expected one " + dtype_name(t));
    }
    std::memcpy(out.data(), v->raw_data(), size);
    return Status::ok();
  }

  void pad_rows(const Tensor& x, Tensor& y, const Pads& pads, const unsigned char* value) const {
    const int last = pads.rank - 1;
    const size_t es = dtype_size(x.dtype());
    const int64_t in_w = x.dim(last), out_w = y.dim(last), begin_w = pads.begin[static_cast<size_t>(last)];
    const auto* px = static_cast<const unsigned char*>(x.raw_data());
    auto* py = static_cast<unsigned char*>(y.raw_data());
    const int64_t rows = y.num_elements() / out_w;
    std::array<int64_t, kMaxPadRank> o{};  // output row coordinates over axes [0, last)
    // Kept input span of the last axis: output [keep0, keep1) = input [keep0 - begin, keep1 - begin).
    const int64_t keep0 = std::clamp<int64_t>(begin_w, 0, out_w);
    const int64_t keep1 = std::clamp<int64_t>(begin_w + in_w, keep0, out_w);
    for (int64_t r = 0; r < rows; ++r) {
      int64_t src_row = 0;
      bool constant_row = false;
      for (int a = 0; a < last; ++a) {
        const size_t i = static_cast<size_t>(a);
        const int64_t s = source_index(o[i] - pads.begin[i], x.dim(a), mode_);
        constant_row = constant_row || s < 0;
        src_row = src_row * x.dim(a) + (s < 0 ? 0 : s);
      }
      unsigned char* yr = py + static_cast<size_t>(r * out_w) * es;
      const unsigned char* xr = px + static_cast<size_t>(src_row * in_w) * es;
      if (constant_row) {
        fill(yr, 0, out_w, es, value);
      } else {
        for (int64_t i = 0; i < keep0; ++i) copy_or_fill(yr, xr, i, i - begin_w, in_w, es, value);
        if (keep1 > keep0) {
          std::memcpy(yr + static_cast<size_t>(keep0) * es, xr + static_cast<size_t>(keep0 - begin_w) * es,
                      static_cast<size_t>(keep1 - keep0) * es);
        }
        for (int64_t i = keep1; i < out_w; ++i) copy_or_fill(yr, xr, i, i - begin_w, in_w, es, value);
      }
      for (int a = last - 1; a >= 0; --a) {  // next output row
        if (++o[static_cast<size_t>(a)] < y.dim(a)) break;
        o[static_cast<size_t>(a)] = 0;
      }
    }
  }

  static void fill(unsigned char* y, int64_t from, int64_t to, size_t es, const unsigned char* value) {
    for (int64_t i = from; i < to; ++i) std::memcpy(y + static_cast<size_t>(i) * es, value, es);
  }
  void copy_or_fill(unsigned char* yr, const unsigned char* xr, int64_t i, int64_t j, int64_t n, size_t es,
                    const unsigned char* value) const {
    const int64_t s = source_index(j, n, mode_);
    std::memcpy(yr + static_cast<size_t>(i) * es, s < 0 ? value : xr + static_cast<size_t>(s) * es, es);
  }

  PadMode mode_ = PadMode::kConstant;
  bool from_inputs_ = true;
  std::vector<int64_t> attr_pads_;
  float attr_value_ = 0;
};

// Output shape when the pads (and axes) are known at load: attributes before
// opset 11, constant inputs after; otherwise the rank alone.
Status infer_pad(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(PadMode mode, parse_mode(node));
  const TensorInfo* x = node.input(0);
  outputs[0].dtype = x->dtype;
  if (node.since_version < 11 && x->dtype != DataType::kUndefined && x->dtype != DataType::kFloat) {
    return unsupported("input 'data' is " + dtype_name(x->dtype) + "; Pad before opset 11 runs on float");
  }
  if (!x->has_shape) return Status::ok();
  outputs[0].has_shape = true;
  outputs[0].dims.assign(x->dims.size(), Dim{});
  std::vector<int64_t> attr_pads;
  std::span<const int64_t> pads, axes;
  bool has_axes = false;
  if (node.since_version < 11) {
    OM_ASSIGN_OR_RETURN(attr_pads, node.attrs().require_ints(node.since_version < 2 ? "paddings" : "pads"));
    pads = attr_pads;
  } else {
    const TensorInfo* p = node.input(1);
    const TensorInfo* a = node.input(3);
    if (p == nullptr || p->constant == nullptr || (a != nullptr && a->constant == nullptr)) return Status::ok();
    if (p->constant->dtype() != DataType::kInt64) return invalid_model("input 'pads' is not int64");
    pads = {p->constant->data<int64_t>(), static_cast<size_t>(p->constant->num_elements())};
    if (a != nullptr) {
      if (a->constant->dtype() != DataType::kInt64) return invalid_model("input 'axes' is not int64");
      axes = {a->constant->data<int64_t>(), static_cast<size_t>(a->constant->num_elements())};
      has_axes = true;
    }
  }
  OM_ASSIGN_OR_RETURN(Pads spread, spread_pads(pads, axes, has_axes, static_cast<int64_t>(x->dims.size())));
  for (size_t i = 0; i < x->dims.size(); ++i) {
    if (!x->dims[i].known()) {
      if (spread.begin[i] == 0 && spread.end[i] == 0) outputs[0].dims[i] = x->dims[i];  // symbolic batch kept
      continue;
    }
    OM_ASSIGN_OR_RETURN(int64_t n, padded_size(x->dims[i].value, spread.begin[i], spread.end[i], static_cast<int>(i), mode));
    outputs[0].dims[i] = Dim{n, ""};
  }
  return Status::ok();
}

}  // namespace

void register_pad_ops(OpRegistry& r) {
  const KernelFactory create = make_kernel<Pad>();
  r.add({.op_type = "Pad", .since_version = 1, .attributes = {"mode", "paddings", "value"}, .infer = infer_pad,
         .create = create});
  r.add({.op_type = "Pad", .since_version = 2, .attributes = {"mode", "pads", "value"}, .infer = infer_pad,
         .create = create});
  for (int since : {11, 13}) {
    r.add({.op_type = "Pad", .since_version = since, .min_inputs = 2, .max_inputs = 3, .attributes = {"mode"},
           .infer = infer_pad, .create = create});
  }
  for (int since : {18, 19, 21}) {
    r.add({.op_type = "Pad", .since_version = since, .min_inputs = 2, .max_inputs = 4, .attributes = {"mode"},
           .infer = infer_pad, .create = create});
  }
}

}  // namespace onnx_mini
