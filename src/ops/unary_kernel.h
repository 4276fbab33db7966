// The elementwise unary kernel shared by the unary op families (unary_math.cc,
// trigonometric.cc): y = fn(x) over every element, in the input's own type,
// for the dtypes the op's Domain admits.
#pragma once

#include <type_traits>
#include <utility>

#include "ops/elementwise_util.h"
#include "ops/registry.h"

namespace onnx_mini {

// Which dtypes a unary op accepts.
enum class Domain { kFloat, kSigned, kNumeric };

template <Domain D, typename F>
bool dispatch_domain(DataType t, F&& f) {
  if constexpr (D == Domain::kFloat) {
    return dispatch_float(t, std::forward<F>(f));
  } else {
    if (D == Domain::kSigned && (t == DataType::kUInt8 || t == DataType::kUInt16 || t == DataType::kUInt32 ||
                                 t == DataType::kUInt64)) {
      return false;
    }
    return dispatch_arithmetic(t, std::forward<F>(f));
  }
}

template <typename Fn, Domain D>
class Unary final : public Kernel {
 public:
  Status init(const NodeInfo&) { return Status::ok(); }
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    bool ok = dispatch_domain<D>(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = x.data<T>();
      T* out = y->data<T>();
      const Fn fn;
      for (int64_t i = 0; i < x.num_elements(); ++i) out[i] = fn(in[i]);
    });
    return ok ? Status::ok() : unsupported("input 'X': dtype " + dtype_name(x.dtype()));
  }
};

}  // namespace onnx_mini
