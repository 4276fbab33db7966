// References for the loss accuracy tests (tests/ops/loss_accuracy_test.cc,
// tests/ops/loss_sweep_test.cc): the per-row losses in long double and an
// exact sum for the reductions, so a reference never loses a term to
// cancellation the way a naive long double sum does (1e30 + 1 - 1e30 is 0
// there, with its 64-bit significand).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace onnx_mini::testing {

// -log_softmax(row)[label] in long double for every label of one row: the
// row's maximum m and log1p of the sum of the other exps are computed once,
// and the loss of label l is (m - x[l]) + that log1p, so a dominant correct
// class keeps its tiny loss. Infinite maxima take their limit (loss +inf, or
// NaN for inf - inf); NaN propagates.
class SoftmaxCrossEntropyRow {
 public:
  SoftmaxCrossEntropyRow(const float* row, int64_t classes) : row_(row) {
    int64_t arg = 0;
    for (int64_t c = 0; c < classes; ++c) {
      nan_ = nan_ || std::isnan(row[c]);
      if (row[c] > row[arg]) arg = c;
    }
    max_ = row[arg];
    if (nan_ || std::isinf(max_)) return;
    long double rest = 0;
    for (int64_t c = 0; c < classes; ++c) rest += c == arg ? 0 : std::exp(static_cast<long double>(row[c]) - max_);
    log_sum_ = std::log1p(rest);
  }
  long double loss(int64_t label) const {
    if (nan_) return NAN;
    const long double xl = row_[label];
    if (std::isinf(max_)) return max_ - xl;  // +inf - finite = inf; inf - inf and -inf - -inf = NaN
    return (max_ - xl) + log_sum_;
  }

 private:
  const float* row_;
  bool nan_ = false;
  long double max_ = 0, log_sum_ = 0;
};

inline long double ref_softmax_ce(const float* row, int64_t classes, int64_t label) {
  return SoftmaxCrossEntropyRow(row, classes).loss(label);
}

inline long double ref_nll(const float* row, int64_t, int64_t label) { return -static_cast<long double>(row[label]); }

// The exact sum of doubles, as a long double (relative error ~2^-64): the
// running sum is kept as non-overlapping partial sums (Shewchuk's algorithm,
// as Python's math.fsum), added smallest first at the end. An infinite or NaN
// term makes the plain sum the answer.
inline long double exact_sum(const std::vector<double>& terms) {
  std::vector<double> partials;
  long double plain = 0;
  for (double t : terms) {
    plain += t;
    if (!std::isfinite(t)) continue;
    size_t kept = 0;
    for (double p : partials) {
      double a = t, b = p;
      if (std::abs(a) < std::abs(b)) std::swap(a, b);
      const double hi = a + b;
      const double lo = b - (hi - a);
      if (lo != 0) partials[kept++] = lo;
      t = hi;
    }
    partials.resize(kept);
    partials.push_back(t);
  }
  if (!std::isfinite(plain)) return plain;
  long double sum = 0;
  for (double p : partials) sum += p;
  return sum;
}

}  // namespace onnx_mini::testing
