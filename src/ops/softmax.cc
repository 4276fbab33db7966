// Softmax and LogSoftmax, max-shifted so huge logits stay finite; Hardmax
// shares their axis handling.
//
// Before opset 13 the input is coerced to 2-D at `axis` (default 1) and the
// softmax runs over the flattened trailing block; from opset 13 it runs along
// the single dimension `axis` (default -1).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/registry.h"
#include "ops/exp_sum.h"

namespace onnx_mini {
namespace {

// Softmax over n elements spaced `stride` apart.
//
// Entries equal to -inf give 0 (log: -inf); a row that is all -inf gives NaN
// (0/0), as ORT and PyTorch do; NaN or +inf anywhere in the row makes the row
// NaN. The sum is 1 (the maximum's own term) + rest, and log(sum) is computed
// as log1p(rest): the log-probability of a dominant class is then -rest with
// full relative precision instead of a multiple of 2^-53.

// The first maximum's position, or -1 when there is no maximum above -inf
// (all -inf or NaN).
template <typename T>
int64_t first_max(const T* x, int64_t n, int64_t stride) {
  T max_v = -std::numeric_limits<T>::infinity();
  int64_t arg = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (x[i * stride] > max_v) {
      max_v = x[i * stride];
      arg = i;
    }
  }
  return arg;
}

// What the sum of the non-maximal terms starts from. No maximum above -inf:
// shift 0 and nothing is left out of the sum, so it starts at -1 and an all
// -inf row gives 0/0, a NaN row NaN. A +inf maximum: NaN, so the whole row is
// NaN (inf - inf has no value) rather than 0 or -inf beside a NaN.
template <typename W>
W sum_start(W shift, int64_t arg) {
  if (arg < 0) return W(-1);
  return shift == std::numeric_limits<W>::infinity() ? std::numeric_limits<W>::quiet_NaN() : W(0);
}

// Float rows, every output faithfully rounded (tests/ops/softmax_sweep_test.cc):
// all arithmetic is in double (ops/exp_sum.h: exact x - max, each exp within
// 2^-45, the sum within ~2^-43 for realistic rows) and each output is rounded
// to float once. In float, x - max of two logits near 1e4 would lose ~4
// digits before exp. Softmax divides each term by the sum once: storing the
// terms in the float output first and scaling them there would round twice
// (up to 1.3 ULP). Rows of up to kExpSumChunk elements keep their terms on
// the stack and compute each exp once; longer rows compute them again for the
// output.
template <bool kLog>
void softmax_strided_float(const float* x, float* y, int64_t n, int64_t stride) {
  const int64_t arg = first_max(x, n, stride);
  const double shift = arg < 0 ? 0.0 : static_cast<double>(x[arg * stride]);
  const double start = sum_start(shift, arg);
  if constexpr (kLog) {
    const double log_sum = std::log1p(start + sum_exp_shifted(x, stride, n, shift, arg));
    for (int64_t i = 0; i < n; ++i) {
      y[i * stride] = static_cast<float>((static_cast<double>(x[i * stride]) - shift) - log_sum);
    }
  } else {
    double terms[kExpSumChunk];
    const bool one_chunk = n <= kExpSumChunk;
    const double rest = start + (one_chunk ? exp_terms(x, stride, n, shift, arg, terms)
                                           : sum_exp_shifted(x, stride, n, shift, arg));
    const double inv = 1.0 / (1.0 + rest);
    for (int64_t first = 0; first < n; first += kExpSumChunk) {
      const int64_t len = std::min(kExpSumChunk, n - first);
      if (!one_chunk) exp_terms(x + first * stride, stride, len, shift, -1, terms);
      for (int64_t k = 0; k < len; ++k) y[(first + k) * stride] = static_cast<float>(terms[k] * inv);
    }
  }
}

// Double rows: double arithmetic, relative error up to |x - max| * 2^-53, a
// few ULP for realistic logits.
template <typename T, bool kLog>
void softmax_strided(const T* x, T* y, int64_t n, int64_t stride) {
  if constexpr (std::is_same_v<T, float>) {
    softmax_strided_float<kLog>(x, y, n, stride);
  } else {
    const int64_t arg = first_max(x, n, stride);
    const T shift = arg < 0 ? T(0) : x[arg * stride];
    T rest = sum_start(shift, arg);
    for (int64_t i = 0; i < n; ++i) {
      const T e = std::exp(x[i * stride] - shift);
      if constexpr (!kLog) y[i * stride] = e;
      if (i != arg) rest += e;
    }
    if constexpr (kLog) {
      const T log_sum = std::log1p(rest);
      for (int64_t i = 0; i < n; ++i) y[i * stride] = x[i * stride] - shift - log_sum;
    } else {
      const T inv = T(1) / (T(1) + rest);
      for (int64_t i = 0; i < n; ++i) y[i * stride] *= inv;
    }
  }
}

// Hardmax: 1 at the first maximum of the row, 0 elsewhere (NaN is never the maximum).
template <typename T>
void hardmax_strided(const T* x, T* y, int64_t n, int64_t stride) {
  int64_t arg = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (x[i * stride] > x[arg * stride]) arg = i;
  }
  for (int64_t i = 0; i < n; ++i) y[i * stride] = i == arg ? T(1) : T(0);
}

enum class RowOp { kSoftmax, kLogSoftmax, kHardmax };

template <RowOp kOp>
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
    // Nothing to compute, and a zero-size tensor may have no storage at all:
    // the row loop below would offset a null pointer (UB).
    if (x.num_elements() == 0) return Status::ok();
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
        if constexpr (kOp == RowOp::kHardmax) {
          hardmax_strided<T>(in + base, out + base, n, inner);
        } else {
          softmax_strided<T, kOp == RowOp::kLogSoftmax>(in + base, out + base, n, inner);
        }
      }
    }
    return Status::ok();
  }

  bool coerce_2d_ = false;
  int64_t axis_ = -1;
};

}  // namespace

void register_softmax_ops(OpRegistry& r) {
  // Versions 1 and 11 differ only in documentation (11 allows negative axis,
  // which normalize_axis accepts anyway); 13 switches to single-axis semantics.
  for (int since : {1, 11, 13}) {
    r.add({.op_type = "Softmax", .since_version = since, .attributes = {"axis"}, .infer = infer_same_as_input0,
           .create = make_kernel<Softmax<RowOp::kSoftmax>>()});
    r.add({.op_type = "LogSoftmax", .since_version = since, .attributes = {"axis"}, .infer = infer_same_as_input0,
           .create = make_kernel<Softmax<RowOp::kLogSoftmax>>()});
    r.add({.op_type = "Hardmax", .since_version = since, .attributes = {"axis"}, .infer = infer_same_as_input0,
           .create = make_kernel<Softmax<RowOp::kHardmax>>()});
  }
}

}  // namespace onnx_mini
