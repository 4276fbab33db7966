// Pointwise activations: one kernel template over the functors of
// activation_functors.h, registered from the one list in activation_list.h,
// plus PRelu (slope broadcast to X).
#include <type_traits>

#include "ops/activation_functors.h"
#include "ops/activation_list.h"
#include "ops/broadcast.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

template <typename Fn, typename = void>
struct AcceptsIntegers : std::false_type {};
template <typename Fn>
struct AcceptsIntegers<Fn, std::void_t<decltype(Fn::kIntegers)>> : std::bool_constant<Fn::kIntegers> {};

template <typename Fn>
class UnaryActivation final : public Kernel {
 public:
  Status init(const NodeInfo& node) { return fn_.init(node.attrs()); }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    switch (x.dtype()) {
      case DataType::kFloat: return apply<float>(x, *y);
      case DataType::kDouble: return apply<double>(x, *y);
      default: break;
    }
    if constexpr (AcceptsIntegers<Fn>::value) {
      switch (x.dtype()) {
        case DataType::kInt8: return apply<int8_t>(x, *y);
        case DataType::kInt16: return apply<int16_t>(x, *y);
        case DataType::kInt32: return apply<int32_t>(x, *y);
        case DataType::kInt64: return apply<int64_t>(x, *y);
        default: break;
      }
    }
    return unsupported("dtype " + dtype_name(x.dtype()));
  }

 private:
  template <typename T>
  Status apply(const Tensor& x, Tensor& y) const {
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const int64_t n = x.num_elements();
    const Fn fn = fn_;  // a local copy lets the compiler keep parameters in registers
    if constexpr (std::is_same_v<T, float> && HasRowForm<Fn>) {
      fn.apply_row(in, out, n);
    } else {
      for (int64_t i = 0; i < n; ++i) out[i] = fn(in[i]);
    }
    return Status::ok();
  }
  Fn fn_;
};

// Output has X's shape: the slope must broadcast unidirectionally to X.
class PRelu final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& slope = *ctx.input(1);
    if (x.dtype() != slope.dtype()) {
      return bad_input("X and slope differ in dtype: " + dtype_name(x.dtype()) + " and " +
                       dtype_name(slope.dtype()));
    }
    OM_ASSIGN_OR_RETURN(Shape shape, broadcast_shapes(x.shape(), slope.shape()));
    if (shape != x.shape()) {
      return bad_input("slope " + describe(slope) + " does not broadcast to X " + describe(x));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    switch (x.dtype()) {
      case DataType::kFloat: broadcast_apply<float, float, float>(x, slope, *y, PReluOp{}); break;
      case DataType::kDouble: broadcast_apply<double, double, double>(x, slope, *y, PReluOp{}); break;
      case DataType::kInt32: broadcast_apply<int32_t, int32_t, int32_t>(x, slope, *y, PReluOp{}); break;
      case DataType::kInt64: broadcast_apply<int64_t, int64_t, int64_t>(x, slope, *y, PReluOp{}); break;
      default: return unsupported("dtype " + dtype_name(x.dtype()));
    }
    return Status::ok();
  }
};

}  // namespace

void register_activation_ops(OpRegistry& r) {
  for_each_activation([&r](const ActivationSpec& spec, auto fn) {
    using Fn = decltype(fn);
    for (int since : spec.versions) {
      std::vector<std::string> accepted = spec.params;
      if (since == 1 && spec.consumed_inputs_at_v1) accepted.push_back("consumed_inputs");
      r.add({.op_type = spec.op_type,
             .domain = kOnnxDomain,
             .since_version = since,
             .min_inputs = 1,
             .max_inputs = 1,
             .min_outputs = 1,
             .max_outputs = 1,
             .attributes = accepted,
             .infer = infer_same_as_input0,
             .create = make_kernel<UnaryActivation<Fn>>()});
    }
    if (spec.onnx_mini_form) {
      r.add({.op_type = spec.op_type,
             .domain = kOnnxMiniDomain,
             .since_version = 1,
             .attributes = spec.params,
             .infer = infer_same_as_input0,
             .create = make_kernel<UnaryActivation<Fn>>()});
    }
  });
  for (int since : {1, 6, 7, 9, 16}) {
    std::vector<std::string> attrs;
    if (since == 1) attrs.push_back("consumed_inputs");
    r.add({.op_type = "PRelu",
           .domain = kOnnxDomain,
           .since_version = since,
           .min_inputs = 2,
           .max_inputs = 2,
           .min_outputs = 1,
           .max_outputs = 1,
           .attributes = attrs,
           .infer = infer_same_as_input0,
           .create = make_kernel<PRelu>()});
  }
}

}  // namespace onnx_mini
