// The two compiled copies of exp_terms (ops/exp_sum.h) and the dispatch
// between them, as ops/packed_gemm.cc does for AVX-512.
#include "ops/exp_sum.h"

#include <algorithm>

namespace onnx_mini {
namespace {

double exp_terms_baseline(const float* x, int64_t stride, int64_t len, double shift, int64_t skip, double* terms) {
  return exp_terms_inline(x, stride, len, shift, skip, terms);
}

// AVX2 without FMA: GCC would contract a * b + c into one rounding and the
// copies would no longer agree to the bit.
__attribute__((target("avx2"))) double exp_terms_avx2(const float* x, int64_t stride, int64_t len, double shift,
                                                      int64_t skip, double* terms) {
  return exp_terms_inline(x, stride, len, shift, skip, terms);
}

bool has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok;
}

}  // namespace

double exp_terms(const float* x, int64_t stride, int64_t len, double shift, int64_t skip, double* terms) {
  return has_avx2() ? exp_terms_avx2(x, stride, len, shift, skip, terms)
                    : exp_terms_baseline(x, stride, len, shift, skip, terms);
}

double sum_exp_shifted(const float* x, int64_t stride, int64_t n, double shift, int64_t skip) {
  double terms[kExpSumChunk];
  double rest = 0;
  for (int64_t first = 0; first < n; first += kExpSumChunk) {
    rest += exp_terms(x + first * stride, stride, std::min(kExpSumChunk, n - first), shift, skip - first, terms);
  }
  return rest;
}

}  // namespace onnx_mini
