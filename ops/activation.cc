// Pointwise activations: one kernel template over the functors of
// activation_functors.h.
#include "ops/activation_functors.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

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
      case DataType::kInt32: return apply<int32_t>(x, *y);
      case DataType::kInt64: return apply<int64_t>(x, *y);
      case DataType::kInt8: return apply<int8_t>(x, *y);
      default: return unsupported("dtype " + dtype_name(x.dtype()));
    }
  }

 private:
  template <typename T>
  Status apply(const Tensor& x, Tensor& y) const {
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const int64_t n = x.num_elements();
    for (int64_t i = 0; i < n; ++i) out[i] = fn_(in[i]);
    return Status::ok();
  }
  Fn fn_;
};

}  // namespace

void register_activation_ops(OpRegistry& r) {
  r.add({"Relu", kOnnxDomain, 6, 1, 1, 1, 1, {}, infer_same_as_input0, make_kernel<UnaryActivation<ReluFn>>()});
}

}  // namespace onnx_mini
