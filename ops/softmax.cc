// Softmax and LogSoftmax, max-shifted so huge logits stay finite.
//
// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and the
// softmax runs over the flattened trailing block; from opset 13 it runs along
// the single dimension `axis` (default -1).
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

// Softmax over n elements spaced `stride` apart.
template <typename T, bool kLog>
void softmax_strided(const T* x, T* y, int64_t n, int64_t stride) {
  T max_v = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) max_v = std::max(max_v, x[i * stride]);
  if (std::isinf(max_v) && max_v < 0) max_v = 0;  // all -inf: let exp give 0s, sum 0 -> NaN as ORT
  // Sum in double: n can be 32000 classes and float accumulation loses digits.
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    T e = std::exp(x[i * stride] - max_v);
    if constexpr (!kLog) y[i * stride] = e;
    sum += static_cast<double>(e);
  }
  if constexpr (kLog) {
    T log_sum = static_cast<T>(std::log(sum));
    for (int64_t i = 0; i < n; ++i) y[i * stride] = x[i * stride] - max_v - log_sum;
  } else {
    T inv = static_cast<T>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i * stride] *= inv;
  }
}

template <bool kLog>
class Softmax final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    coerce_2d_ = node.since_version < 13;
    OM_ASSIGN_OR_RETURN(axis_, node.attrs().get_int("axis", coerce_2d_ ? 1 : -1));
    return Status::ok();
  }

  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), x.dtype()));
    const int64_t rank = x.rank();
    if (rank == 0) return bad_input("input must have rank >= 1");
    OM_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(axis_, rank));
    int64_t outer = 1, n = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
    if (coerce_2d_) {
      for (int64_t d = axis; d < rank; ++d) n *= x.dim(d);
    } else {
      n = x.dim(axis);
      for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dim(d);
    }
    if (x.dtype() == DataType::kFloat) return compute<float>(x, *y, outer, n, inner);
    if (x.dtype() == DataType::kDouble) return compute<double>(x, *y, outer, n, inner);
    return unsupported("dtype " + dtype_name(x.dtype()));
  }

 private:
  template <typename T>
  Status compute(const Tensor& x, Tensor& y, int64_t outer, int64_t n, int64_t inner) const {
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        int64_t base = o * n * inner + i;
        softmax_strided<T, kLog>(in + base, out + base, n, inner);
      }
    }
    return Status::ok();
  }

  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

}  // namespace

void register_softmax_ops(OpRegistry& r) {
  for (int since : {1, 13}) {
    r.add({"Softmax", kOnnxDomain, since, 1, 1, 1, 1, {"axis"}, infer_same_as_input0, make_kernel<Softmax<false>>()});
    r.add({"LogSoftmax", kOnnxDomain, since, 1, 1, 1, 1, {"axis"}, infer_same_as_input0,
           make_kernel<Softmax<true>>()});
  }
}

}  // namespace onnx_mini
