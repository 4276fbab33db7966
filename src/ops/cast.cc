// Cast and CastLike between every numeric dtype, bool, float16 and bfloat16.
// Conversions follow ops/numeric.h: float -> integer truncates toward zero,
// NaN -> 0, out-of-range values saturate (C leaves both undefined; ORT gives
// INT_MIN for NaN on x86, numpy wraps: neither is portable). float16 and
// bfloat16 widen exactly to float; anything narrows to them with one rounding
// to nearest even (core/half.h), so float16 <-> float is exact both ways on
// float16 values. string is deliberately unsupported.
#include <cstring>

#include "core/half.h"
#include "ops/numeric.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

bool castable(DataType t) { return dtype_is_supported(t); }

float half_value(DataType t, uint16_t bits) {
  return t == DataType::kFloat16 ? half_to_float(bits) : bfloat16_to_float(bits);
}

// float16 or bfloat16 -> anything: widen to float (exact), then convert.
Status cast_from_half(const Tensor& x, Tensor& y) {
  const auto* in = x.data<uint16_t>();
  const int64_t n = x.num_elements();
  const DataType from = x.dtype();
  if (y.dtype() == DataType::kFloat16) {
    auto* out = y.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = float_to_half(half_value(from, in[i]));
    return Status::ok();
  }
  if (y.dtype() == DataType::kBFloat16) {
    auto* out = y.data<uint16_t>();
    for (int64_t i = 0; i < n; ++i) out[i] = float_to_bfloat16(half_value(from, in[i]));
    return Status::ok();
  }
  bool ok = dispatch_dtype(y.dtype(), [&](auto tag) {
    using To = decltype(tag);
    To* out = y.data<To>();
    if (from == DataType::kFloat16) {
      for (int64_t i = 0; i < n; ++i) out[i] = convert_value<To>(half_to_float(in[i]));
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = convert_value<To>(bfloat16_to_float(in[i]));
    }
  });
  return ok ? Status::ok() : unsupported("cast from " + dtype_name(from) + " to " + dtype_name(y.dtype()));
}

// Anything else -> float16 or bfloat16, rounded once.
Status cast_to_half(const Tensor& x, Tensor& y) {
  auto* out = y.data<uint16_t>();
  const int64_t n = x.num_elements();
  const bool to_f16 = y.dtype() == DataType::kFloat16;
  bool ok = dispatch_dtype(x.dtype(), [&](auto tag) {
    using From = decltype(tag);
    const From* in = x.data<From>();
    if (to_f16) {
      for (int64_t i = 0; i < n; ++i) out[i] = to_half(in[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = to_bfloat16(in[i]);
    }
  });
  return ok ? Status::ok() : unsupported("cast from " + dtype_name(x.dtype()) + " to " + dtype_name(y.dtype()));
}

Status cast_tensor(const Tensor& x, Tensor& y) {
  if (x.dtype() == y.dtype()) {
    if (x.byte_size()) std::memcpy(y.raw_data(), x.raw_data(), x.byte_size());
    return Status::ok();
  }
  if (dtype_is_half(x.dtype())) return cast_from_half(x, y);
  if (dtype_is_half(y.dtype())) return cast_to_half(x, y);
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
  if (!castable(t)) return unsupported("attribute 'to': " + unsupported_dtype_message(t));
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
    if (!castable(to)) return unsupported("input 'target_type': " + unsupported_dtype_message(to));
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
  // Cast and CastLike convert float16/bfloat16 themselves (exactly, or with the
  // one rounding the conversion defines). 9 and 13 widened the type lists.
  r.add({.op_type = "Cast", .since_version = 6, .attributes = {"to"}, .infer = infer_cast,
         .create = make_kernel<Cast>(), .also_since = {9, 13}, .half_types = HalfTypes::kNative});
  r.add({.op_type = "CastLike", .since_version = 15, .min_inputs = 2, .max_inputs = 2, .infer = infer_cast_like,
         .create = make_kernel<CastLike>(), .half_types = HalfTypes::kNative});
  // Version 19 adds float8 types and `saturate`, which only affects casts to
  // float8; 21 adds int4/uint4. onnx-mini has neither (such a target is
  // rejected as unsupported), so `saturate` is accepted and has nothing to change.
  r.add({.op_type = "Cast", .since_version = 19, .attributes = {"to", "saturate"}, .infer = infer_cast,
         .create = make_kernel<Cast>(), .also_since = {21}, .half_types = HalfTypes::kNative});
  r.add({.op_type = "CastLike", .since_version = 19, .min_inputs = 2, .max_inputs = 2, .attributes = {"saturate"},
         .infer = infer_cast_like, .create = make_kernel<CastLike>(), .also_since = {21},
         .half_types = HalfTypes::kNative});
}

}  // namespace onnx_mini
