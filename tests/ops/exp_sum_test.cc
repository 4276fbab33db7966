// ops/exp_sum: the compiled copy the CPU runs (AVX2 where available) gives
// the same bits as the inline arithmetic compiled here without it, leaves out
// exactly the term asked for and puts it back, and its sums are within the
// bound the header states of a long double reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/exp_sum.h"

namespace onnx_mini {
namespace {

std::vector<float> logits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 20.0f);
  std::vector<float> x(n);
  for (float& v : x) v = d(rng);
  return x;
}

TEST(ExpSum, DispatchedCopyMatchesInlineArithmeticToTheBit) {
  const std::vector<float> x = logits(3 * kExpSumChunk, 1);
  std::vector<double> a(kExpSumChunk), b(kExpSumChunk);
  for (int64_t stride : {1, 3}) {
    for (int64_t len : {0, 1, 3, 4, 5, 37, 1000, 1024}) {
      for (int64_t skip : {int64_t{-1}, int64_t{0}, len / 2, len - 1, len}) {
        const double sa = exp_terms(x.data(), stride, len, 30.0, skip, a.data());
        const double sb = exp_terms_inline(x.data(), stride, len, 30.0, skip, b.data());
        EXPECT_EQ(sa, sb) << "stride " << stride << " len " << len << " skip " << skip;
        for (int64_t k = 0; k < len; ++k) ASSERT_EQ(a[static_cast<size_t>(k)], b[static_cast<size_t>(k)]) << k;
      }
    }
  }
}

TEST(ExpSum, LeavesOutTheSkippedTermAndKeepsIt) {
  const std::vector<float> x = {0.0f, -1.0f, -2.0f, 0.5f, -0.25f};
  std::vector<double> terms(5);
  const double without_3 = exp_terms(x.data(), 1, 5, 0.5, 3, terms.data());
  EXPECT_EQ(terms[3], 1.0);  // exp(0.5 - 0.5), put back after the sum
  long double want = 0;
  for (int k : {0, 1, 2, 4}) want += std::exp(static_cast<long double>(x[static_cast<size_t>(k)]) - 0.5L);
  EXPECT_NEAR(without_3, static_cast<double>(want), 1e-15);
}

// (1 + kExpSumChunk / 4 + n / kExpSumChunk) 2^-53 for the sum, plus 2^-45
// for the terms: 2^-42 covers it for these rows.
TEST(ExpSum, LongRowsWithinTheStatedBound) {
  for (size_t n : {size_t{10}, size_t{1000}, size_t{5000}, size_t{100000}}) {
    const std::vector<float> x = logits(n, 2);
    const float shift = 80.0f;  // above every logit
    const double got = sum_exp_shifted(x.data(), 1, static_cast<int64_t>(n), shift, 7);
    long double want = 0;
    for (size_t i = 0; i < n; ++i) want += i == 7 ? 0 : std::exp(static_cast<long double>(x[i]) - shift);
    EXPECT_LT(std::fabs((got - want) / want), std::ldexp(1.0L, -42)) << n;
  }
}

}  // namespace
}  // namespace onnx_mini
