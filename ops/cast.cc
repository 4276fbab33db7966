// Cast and CastLike between every numeric dtype and bool.
// Conversions follow ops/numeric.h: float -> integer truncates toward zero,
// NaN -> 0, out-of-range values saturate (C leaves both undefined; ORT gives
// INT_MIN for NaN on x86, numpy wraps: neither is portable). string, float16
// and bfloat16 are deliberately unsupported.
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// The dtypes with a C++ type in dispatch_dtype (float16/bfloat16 have none yet).
bool castable(DataType t) {
  return dtype_is_supported(t) && t != DataType::kFloat16 && t != DataType::kBFloat16;
}

Status cast_tensor(const Tensor& x, Tensor& y) {
  bool inner = true;
  bool ok = dispatch_dtype(x.dtype(), [&](auto from_tag) {
    using From = decltype(from_tag);
    inner = dispatch_dtype(y.dtype(), [&](auto to_tag) {
      using To = decltype(to_tag);
      const From* in = x.data<From>();
      To* out = y.data<To>();
      for (int64_t i = 0; i < x.num_elements(); ++i) out[i] = convert_value<To>(in[i]);
    });
  });
  if (!ok || !inner) return unsupported("cast from " + dtype_name(x.dtype()) + " to " + dtype_name(y.dtype()));
  return Status::ok();
}

Result<DataType> cast_target(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(int64_t to, node.attrs().require_int("to"));
  DataType t = dtype_from_onnx(static_cast<int32_t>(to));
  if (to < 0 || to > 1000 || t == DataType::kUndefined) return invalid_model("attribute 'to': unknown dtype " + std::to_string(to));
  if (!castable(t)) return unsupported("attribute 'to': cast to " + dtype_name(t) + " is not supported");
  return t;
}

class Cast final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(to_, cast_target(node));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), to_));
    return cast_tensor(x, *y);
  }

 private:
  DataType to_ = DataType::kFloat;
};

Status infer_cast(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(DataType to, cast_target(node));
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  outputs[0].dtype = to;
  return Status::ok();
}

// CastLike(input, target_type): the dtype of the second input.
class CastLike final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const DataType to = ctx.input(1)->dtype();
    if (!castable(to)) return unsupported("input 'target_type': cast to " + dtype_name(to) + " is not supported");
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), to));
    return cast_tensor(x, *y);
  }
};

Status infer_cast_like(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(infer_same_as_input0(node, outputs));
  outputs[0].dtype = node.input(1)->dtype;
  return Status::ok();
}

}  // namespace

void register_cast_ops(OpRegistry& r) {
  r.add({"Cast", kOnnxDomain, 6, 1, 1, 1, 1, {"to"}, infer_cast, make_kernel<Cast>()});
  r.add({"CastLike", kOnnxDomain, 15, 2, 2, 1, 1, {}, infer_cast_like, make_kernel<CastLike>()});
}

}  // namespace onnx_mini
