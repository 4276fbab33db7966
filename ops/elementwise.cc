// Elementwise arithmetic with numpy broadcasting.
#include "ops/broadcast.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

struct AddOp {
  template <typename T> T operator()(T a, T b) const { return a + b; }
};

// Calls f(T{}) for the numeric (non-bool) dtypes arithmetic ops accept.
template <typename F>
bool dispatch_arithmetic(DataType t, F&& f) {
  if (t == DataType::kBool) return false;
  return dispatch_dtype(t, std::forward<F>(f));
}

template <typename Op>
class BinaryArithmetic final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }

  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    if (a.dtype() != b.dtype()) {
      return bad_input("inputs differ in dtype: " + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, broadcast_output(ctx, 0, a.shape(), b.shape(), a.dtype()));
    bool ok = dispatch_arithmetic(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      broadcast_apply<T, T, T>(a, b, *y, Op{});
    });
    return ok ? Status::ok() : unsupported("dtype " + dtype_name(a.dtype()));
  }
};

}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  r.add({"Add", kOnnxDomain, 7, 2, 2, 1, 1, {}, infer_broadcast, make_kernel<BinaryArithmetic<AddOp>>()});
}

}  // namespace onnx_mini
