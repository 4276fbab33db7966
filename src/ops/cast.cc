// Cast and CastLike between every numeric dtype and bool.
// Conversions follow ops/numeric.h: float -> integer truncates toward zero,
// NaN -> 0, out-of-range values saturate (C leaves both undefined; ORT gives
// INT_MIN for NaN on x86, numpy wraps: neither is portable). float16 converts
// through double (ops/half.h, round to nearest even). string and bfloat16 are
// deliberately unsupported.
#include <cstring>

#include "ops/half.h"
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Numeric dtypes with a C++ type in dispatch_dtype, plus float16 (via double).
bool castable(DataType t) { return dtype_is_supported(t) && t != DataType::kBFloat16; }

// float16 -> T or T -> float16, through double.
Status cast_half(const Tensor& x, Tensor& y) {
  const int64_t n = x.num_elements();
  if (x.dtype() == DataType::kFloat16 && y.dtype() == DataType::kFloat16) {
    if (x.byte_size()) std::memcpy(y.raw_data(), x.raw_data(), x.byte_size());
    return Status::ok();
  }
  if (x.dtype() == DataType::kFloat16) {
    const auto* in = x.data<uint16_t>();
    bool ok = dispatch_dtype(y.dtype(), [&](auto tag) {
      using To = decltype(tag);
      To* out = y.data<To>();
      for (int64_t i = 0; i < n; ++i) out[i] = convert_value<To>(half_to_double(in[i]));
    });
    return ok ? Status::ok() : unsupported("cast from float16 to " + dtype_name(y.dtype()));
  }
  auto* out = y.data<uint16_t>();
  bool ok = dispatch_dtype(x.dtype(), [&](auto tag) {
    using From = decltype(tag);
    const From* in = x.data<From>();
    for (int64_t i = 0; i < n; ++i) out[i] = double_to_half(static_cast<double>(in[i]));
  });
  return ok ? Status::ok() : unsupported("cast from " + dtype_name(x.dtype()) + " to float16");
}

Status cast_tensor(const Tensor& x, Tensor& y) {
  if (x.dtype() == DataType::kFloat16 || y.dtype() == DataType::kFloat16) return cast_half(x, y);
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
  r.add({.op_type = "Cast", .since_version = 6, .attributes = {"to"}, .infer = infer_cast,
         .create = make_kernel<Cast>()});
  r.add({.op_type = "CastLike", .since_version = 15, .min_inputs = 2, .max_inputs = 2, .infer = infer_cast_like,
         .create = make_kernel<CastLike>()});
  // Version 19 adds float8 types and `saturate`, which only affects casts to
  // float8; onnx-mini has no float8 (such a target is rejected as unsupported),
  // so the attribute is accepted and has nothing to change.
  r.add({.op_type = "Cast", .since_version = 19, .attributes = {"to", "saturate"}, .infer = infer_cast,
         .create = make_kernel<Cast>()});
  r.add({.op_type = "CastLike", .since_version = 19, .min_inputs = 2, .max_inputs = 2, .attributes = {"saturate"},
         .infer = infer_cast_like, .create = make_kernel<CastLike>()});
}

}  // namespace onnx_mini
