// Sums of exp(x - shift) over rows of float logits, the common step of
// Softmax / LogSoftmax (ops/softmax.cc) and SoftmaxCrossEntropyLoss
// (ops/loss.cc), in double so that their float outputs can be faithfully
// rounded: x - shift is exact in double for float x and shift (unless their
// exponents differ by more than 29, when it is within 2^-53 relative), each
// term is within 2^-45 relative (ops/vecmath.h), and the terms, all positive,
// are summed in chunks of kExpSumChunk with four partial sums each, so the sum
// is within (1 + kExpSumChunk / 4 + n / kExpSumChunk) * 2^-53 relative of the
// sum of the computed terms (2^-42 for a million terms).
//
// On CPUs with AVX2 the loops run in a copy compiled for it (four doubles per
// instruction, 2-3x the SSE2 baseline's speed, measured); both copies do the
// same IEEE operations in the same order (no FMA), so results are identical.
#pragma once

#include <cstdint>

#include "ops/vecmath.h"

namespace onnx_mini {

inline constexpr int64_t kExpSumChunk = 1024;

// terms[k] = exp(x[k * stride] - shift) for k < len <= kExpSumChunk, and their
// sum without terms[skip] (skip < 0 or >= len: none left out).
double exp_terms(const float* x, int64_t stride, int64_t len, double shift, int64_t skip, double* terms);

// The sum of exp(x[i * stride] - shift) over i < n without the term at `skip`
// (the row's maximum, whose term is exactly 1, is left out so that
// log1p(rest) keeps a tiny loss or log-probability exact).
double sum_exp_shifted(const float* x, int64_t stride, int64_t n, double shift, int64_t skip);

// exp_terms' arithmetic, inline: what both compiled copies run, and what a
// test compares them with.
inline double exp_terms_inline(const float* x, int64_t stride, int64_t len, double shift, int64_t skip,
                               double* terms) {
  for (int64_t k = 0; k < len; ++k) terms[k] = vecmath::exp(static_cast<double>(x[k * stride]) - shift);
  // The left-out term is zeroed and put back: a select inside the sum loop
  // kept it scalar. Four independent chains hide the adds' latency.
  const bool leave_out = skip >= 0 && skip < len;
  const double left_out = leave_out ? terms[skip] : 0.0;
  if (leave_out) terms[skip] = 0.0;
  double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
  int64_t k = 0;
  for (; k + 4 <= len; k += 4) {
    p0 += terms[k];
    p1 += terms[k + 1];
    p2 += terms[k + 2];
    p3 += terms[k + 3];
  }
  for (; k < len; ++k) p0 += terms[k];
  if (leave_out) terms[skip] = left_out;
  return (p0 + p1) + (p2 + p3);
}

}  // namespace onnx_mini
