// Ops that create tensors from small arguments: ConstantOfShape, Range.
// Their sizes come from data, so each is checked before anything is allocated.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "ops/elementwise_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Result<Shape> shape_from_tensor(const Tensor& t) {
  if (t.dtype() != DataType::kInt64 || t.rank() != 1) {
    return bad_input("input 'input' must be a 1-D int64 shape, got " + describe(t));
  }
  Shape s(t.data<int64_t>(), t.data<int64_t>() + t.num_elements());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] < 0) return bad_input("input 'input': dim " + std::to_string(s[i]) + " at index " + std::to_string(i) + " is negative");
  }
  OM_RETURN_IF_ERROR(check_runtime_shape(s).with_context("input 'input': "));
  return s;
}

// The fill value: attribute 'value' (one element), float 0 by default.
Result<Tensor> fill_value(const NodeInfo& node) {
  if (!node.attrs().has("value")) {
    return Tensor::allocate(DataType::kFloat, {1});  // zero-filled
  }
  OM_ASSIGN_OR_RETURN(Tensor v, node.attrs().require_tensor("value"));
  if (v.num_elements() != 1) return invalid_model("attribute 'value' must hold one element, got " + describe(v));
  if (!dtype_size(v.dtype())) return unsupported("attribute 'value' of dtype " + dtype_name(v.dtype()));
  return v;
}

class ConstantOfShape final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(value_, fill_value(node));
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(Shape shape, shape_from_tensor(*ctx.input(0)));
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, shape, value_.dtype()));
    const size_t es = dtype_size(value_.dtype());
    auto* dst = static_cast<uint8_t*>(y->raw_data());
    for (int64_t i = 0; i < y->num_elements(); ++i) std::memcpy(dst + static_cast<size_t>(i) * es, value_.raw_data(), es);
    return Status::ok();
  }

 private:
  Tensor value_;
};

Status infer_constant_of_shape(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(Tensor v, fill_value(node));
  outputs[0].dtype = v.dtype();
  const TensorInfo* in = node.input(0);
  if (in->constant) {
    auto s = shape_from_tensor(*in->constant);
    if (!s.is_ok()) return invalid_model(s.status().message());
    outputs[0] = TensorInfo::of(v.dtype(), s.value());
  } else if (in->has_shape && in->dims.size() == 1 && in->dims[0].known()) {
    outputs[0].has_shape = true;
    outputs[0].dims.assign(static_cast<size_t>(in->dims[0].value), Dim{});
  }
  return Status::ok();
}

// Element count of Range: max(ceil((limit - start) / delta), 0), computed in
// long double so int64 differences cannot overflow; delta 0 and non-finite
// arguments are errors, and the count is capped like any tensor size.
template <typename T>
Result<int64_t> range_count(T start, T limit, T delta) {
  if (delta == T{0}) return bad_input("input 'delta' is zero");
  long double n = std::ceil((static_cast<long double>(limit) - static_cast<long double>(start)) / static_cast<long double>(delta));
  if (std::isnan(n)) return bad_input("inputs 'start', 'limit', 'delta' give no finite element count");
  if (n <= 0) return int64_t{0};
  if (n > static_cast<long double>(kMaxTensorElements)) {
    char count[32];
    std::snprintf(count, sizeof count, "%.6Lg", n);
    return resource_limit(std::string("Range would have ") + count +
                          " elements, above the limit of 2^40 elements per tensor (a fixed limit)");
  }
  return static_cast<int64_t>(n);
}

class Range final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor* args[3] = {ctx.input(0), ctx.input(1), ctx.input(2)};
    const char* names[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; ++i) {
      if (args[i]->num_elements() != 1) return bad_input(std::string("input '") + names[i] + "' must be a scalar, got " + describe(*args[i]));
      if (args[i]->dtype() != args[0]->dtype()) return bad_input(std::string("input '") + names[i] + "' has dtype " + dtype_name(args[i]->dtype()) + ", input 'start' " + dtype_name(args[0]->dtype()));
    }
    Status st;
    bool ok = dispatch_arithmetic(args[0]->dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T start = args[0]->data<T>()[0], limit = args[1]->data<T>()[0], delta = args[2]->data<T>()[0];
      auto n = range_count(start, limit, delta);
      if (!n.is_ok()) { st = n.status(); return; }
      auto y = ctx.output(0, {n.value()}, args[0]->dtype());
      if (!y.is_ok()) { st = y.status(); return; }
      Tensor* yt = y.value();
      T* out = yt->template data<T>();
      // start + i * delta lies between start and limit, so it fits T; for integers it is
      // computed modulo 2^64 (exact for the in-range result, no intermediate overflow
      // even when i * delta alone would not fit, e.g. int8 from -128 to 127).
      for (int64_t i = 0; i < n.value(); ++i) {
        if constexpr (std::is_integral_v<T>) {
          const uint64_t v = static_cast<uint64_t>(start) + static_cast<uint64_t>(i) * static_cast<uint64_t>(delta);
          out[i] = static_cast<T>(v);
        } else {
          out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
        }
      }
    });
    if (!ok) return unsupported("dtype " + dtype_name(args[0]->dtype()));
    return st;
  }
};

Status infer_range(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  outputs[0].dtype = node.input(0)->dtype;
  outputs[0].has_shape = true;
  outputs[0].dims = {Dim{}};
  return Status::ok();
}

}  // namespace

void register_generator_ops(OpRegistry& r) {
  // ConstantOfShape copies its value's bytes: any float16/bfloat16 value natively.
  // 20 and 21 widened the types (float8, int4: refused where the value is read).
  r.add({.op_type = "ConstantOfShape", .since_version = 9, .attributes = {"value"}, .infer = infer_constant_of_shape,
         .create = make_kernel<ConstantOfShape>(), .also_since = {20, 21}, .half_types = HalfTypes::kNative});
  r.add({.op_type = "Range", .since_version = 11, .min_inputs = 3, .max_inputs = 3, .infer = infer_range,
         .create = make_kernel<Range>()});
}

}  // namespace onnx_mini
