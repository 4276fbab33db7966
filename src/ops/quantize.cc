// QuantizeLinear and DequantizeLinear (opsets 10, 13, 19, 21), per tensor
// (scalar scale and zero point) or per axis (1-D, one per slice along `axis`),
// int8 and uint8, computed in float so QDQ models run (int8 kernels are a
// later step):
//   QuantizeLinear:   y = saturate(round(x / scale) + zero_point), round half
//                     to even (the spec's), NaN -> zero_point (the spec leaves
//                     it open; C's cast of NaN is undefined);
//   DequantizeLinear: y = (x - zero_point) * scale, also from int32 (zero
//                     point 0, as the spec allows).
// Versions 19 and 21 add float8 and (21) int4/uint4/int16/uint16 types and
// blocked quantization (`block_size`): those are refused with an unsupported
// error; `saturate` (float8 only) is accepted and has no effect on int8/uint8.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

bool quantized_type(DataType t) { return t == DataType::kInt8 || t == DataType::kUInt8; }

struct QuantAxis {
  int64_t axis = 1;  // the attribute (opset 13+), normalised per run
  int64_t block_size = 0;
  DataType output_dtype = DataType::kUndefined;  // opset 21's output_dtype; undefined: from the zero point

  static Result<QuantAxis> parse(const NodeInfo& node) {
    QuantAxis q;
    OM_ASSIGN_OR_RETURN(q.axis, node.attrs().get_int("axis", 1));
    OM_ASSIGN_OR_RETURN(q.block_size, node.attrs().get_int("block_size", 0));
    if (q.block_size != 0) return unsupported("blocked quantization (block_size " + std::to_string(q.block_size) + ") is not supported");
    OM_ASSIGN_OR_RETURN(int64_t saturate, node.attrs().get_int("saturate", 1));
    (void)saturate;  // float8 only
    OM_ASSIGN_OR_RETURN(int64_t out, node.attrs().get_int("output_dtype", 0));
    if (out != 0) {
      q.output_dtype = dtype_from_onnx(static_cast<int32_t>(std::clamp<int64_t>(out, -1, 1000)));
      if (!quantized_type(q.output_dtype)) {
        return unsupported("output_dtype " + std::to_string(out) + " is not supported (int8 and uint8 are)");
      }
    }
    return q;
  }
};

// How scale and zero point index the elements of x: per tensor, or one value
// per index along `axis` (x viewed as [outer, count, inner]).
struct Broadcast {
  int64_t outer = 1, count = 1, inner = 1;
  bool per_axis = false;
};

Result<Broadcast> scale_broadcast(const Tensor& x, const Tensor& scale, const Tensor* zero_point, int64_t axis_attr,
                                  int since) {
  if (zero_point && zero_point->shape() != scale.shape()) {
    return bad_input("zero point " + describe(*zero_point) + " and scale " + describe(scale) + " differ in shape");
  }
  Broadcast b;
  b.inner = x.num_elements();
  if (scale.rank() == 0 || (scale.rank() == 1 && scale.dim(0) == 1 && since < 13)) return b;
  if (since < 13 || scale.rank() != 1) {
    return bad_input("scale must be a scalar" + std::string(since >= 13 ? " or 1-D" : "") + ", got " + describe(scale));
  }
  OM_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(axis_attr, x.rank()));
  if (scale.dim(0) != x.dim(axis)) {
    return bad_input("per-axis scale " + describe(scale) + " does not match dimension " + std::to_string(axis) +
                     " of x " + describe(x));
  }
  b.per_axis = true;
  b.count = x.dim(axis);
  b.outer = 1;
  for (int64_t d = 0; d < axis; ++d) b.outer *= x.dim(d);
  b.inner = 1;
  for (int64_t d = axis + 1; d < x.rank(); ++d) b.inner *= x.dim(d);
  return b;
}

// Calls f(value index, first element, element count) for each run of
// elements sharing one scale.
template <typename F>
void for_each_scale_run(const Broadcast& b, F&& f) {
  if (!b.per_axis) {
    f(int64_t{0}, int64_t{0}, b.inner);
    return;
  }
  for (int64_t o = 0; o < b.outer; ++o) {
    for (int64_t c = 0; c < b.count; ++c) f(c, (o * b.count + c) * b.inner, b.inner);
  }
}

template <typename Q>
void quantize(const float* x, const float* scale, const Q* zero_point, const Broadcast& b, Q* y) {
  constexpr float lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  for_each_scale_run(b, [&](int64_t c, int64_t first, int64_t n) {
    const float s = scale[c];
    const float zp = zero_point ? static_cast<float>(zero_point[c]) : 0.0f;
    for (int64_t i = first; i < first + n; ++i) {
      const float v = std::nearbyint(x[i] / s) + zp;  // default rounding mode: to nearest, ties to even
      y[i] = std::isnan(v) ? static_cast<Q>(zp) : static_cast<Q>(std::clamp(v, lo, hi));
    }
  });
}

template <typename Q>
void dequantize(const Q* x, const float* scale, const Q* zero_point, const Broadcast& b, float* y) {
  for_each_scale_run(b, [&](int64_t c, int64_t first, int64_t n) {
    const float s = scale[c];
    const int32_t zp = zero_point ? static_cast<int32_t>(zero_point[c]) : 0;
    // x - zp is exact in int32 for 8-bit x; for int32 x the zero point is 0.
    for (int64_t i = first; i < first + n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(x[i]) - zp) * s;
  });
}

Status check_scale(const Tensor& scale) {
  if (scale.dtype() != DataType::kFloat) return unsupported("scale must be float, got " + describe(scale));
  return Status::ok();
}

class QuantizeLinear final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    since_ = node.since_version;
    OM_ASSIGN_OR_RETURN(q_, QuantAxis::parse(node));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.input(2);
    OM_RETURN_IF_ERROR(check_scale(scale));
    if (x.dtype() != DataType::kFloat) return unsupported("QuantizeLinear of " + describe(x) + " (float is supported)");
    const DataType out = zp ? zp->dtype() : q_.output_dtype != DataType::kUndefined ? q_.output_dtype : DataType::kUInt8;
    if (!quantized_type(out)) return unsupported("quantizing to " + dtype_name(out) + " (int8 and uint8 are supported)");
    OM_ASSIGN_OR_RETURN(Broadcast b, scale_broadcast(x, scale, zp, q_.axis, since_));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), out));
    if (out == DataType::kInt8) {
      quantize<int8_t>(x.data<float>(), scale.data<float>(), zp ? zp->data<int8_t>() : nullptr, b, y->data<int8_t>());
    } else {
      quantize<uint8_t>(x.data<float>(), scale.data<float>(), zp ? zp->data<uint8_t>() : nullptr, b, y->data<uint8_t>());
    }
    return Status::ok();
  }

 private:
  int since_ = 10;
  QuantAxis q_;
};

class DequantizeLinear final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    since_ = node.since_version;
    OM_ASSIGN_OR_RETURN(q_, QuantAxis::parse(node));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor* zp = ctx.input(2);
    OM_RETURN_IF_ERROR(check_scale(scale));
    if (zp && zp->dtype() != x.dtype()) {
      return bad_input("zero point " + describe(*zp) + " and x " + describe(x) + " differ in dtype");
    }
    OM_ASSIGN_OR_RETURN(Broadcast b, scale_broadcast(x, scale, zp, q_.axis, since_));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    float* out = y->data<float>();
    switch (x.dtype()) {
      case DataType::kInt8: dequantize<int8_t>(x.data<int8_t>(), scale.data<float>(), zp ? zp->data<int8_t>() : nullptr, b, out); break;
      case DataType::kUInt8: dequantize<uint8_t>(x.data<uint8_t>(), scale.data<float>(), zp ? zp->data<uint8_t>() : nullptr, b, out); break;
      case DataType::kInt32: {
        if (zp) {
          for (int64_t i = 0; i < zp->num_elements(); ++i) {
            if (zp->data<int32_t>()[i] != 0) return bad_input("an int32 x needs a zero point of 0, got " + describe(*zp));
          }
        }
        dequantize<int32_t>(x.data<int32_t>(), scale.data<float>(), nullptr, b, out);
        break;
      }
      default: return unsupported("DequantizeLinear of " + describe(x) + " (int8, uint8 and int32 are supported)");
    }
    return Status::ok();
  }

 private:
  int since_ = 10;
  QuantAxis q_;
};

Status infer_quantize(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(QuantAxis q, QuantAxis::parse(node));
  const TensorInfo* x = node.input(0);
  const TensorInfo* zp = node.input(2);
  outputs[0] = *x;
  outputs[0].constant = nullptr;
  outputs[0].dtype = zp ? zp->dtype : q.output_dtype != DataType::kUndefined ? q.output_dtype : DataType::kUInt8;
  if (outputs[0].dtype != DataType::kUndefined && !quantized_type(outputs[0].dtype)) {
    return unsupported("quantizing to " + dtype_name(outputs[0].dtype) + " is not supported (int8 and uint8 are)");
  }
  if (x->dtype != DataType::kUndefined && x->dtype != DataType::kFloat) {
    return unsupported("QuantizeLinear of " + x->to_string() + " is not supported (float is)");
  }
  return Status::ok();
}

Status infer_dequantize(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_RETURN_IF_ERROR(QuantAxis::parse(node).status());
  const TensorInfo* x = node.input(0);
  if (x->dtype != DataType::kUndefined && !quantized_type(x->dtype) && x->dtype != DataType::kInt32) {
    return unsupported("DequantizeLinear of " + x->to_string() + " is not supported (int8, uint8 and int32 are)");
  }
  outputs[0] = *x;
  outputs[0].constant = nullptr;
  outputs[0].dtype = DataType::kFloat;
  return Status::ok();
}

std::vector<std::string> quantize_attributes(int since) {
  if (since < 13) return {};
  if (since < 19) return {"axis"};
  if (since < 21) return {"axis", "saturate"};
  return {"axis", "block_size", "output_dtype", "saturate"};
}

}  // namespace

void register_quantize_ops(OpRegistry& r) {
  for (int since : {10, 13, 19, 21}) {
    r.add({.op_type = "QuantizeLinear", .since_version = since, .min_inputs = 2, .max_inputs = 3,
           .attributes = quantize_attributes(since), .infer = infer_quantize,
           .create = make_kernel<QuantizeLinear>()});
    std::vector<std::string> dq = quantize_attributes(since);
    std::erase(dq, "saturate");
    std::erase(dq, "output_dtype");
    r.add({.op_type = "DequantizeLinear", .since_version = since, .min_inputs = 2, .max_inputs = 3,
           .attributes = dq, .infer = infer_dequantize, .create = make_kernel<DequantizeLinear>()});
  }
}

}  // namespace onnx_mini
