// ops/numeric.h: floor division, which window and padding arithmetic needs
// where C++'s / truncates toward zero.
#include "ops/numeric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace onnx_mini {
namespace {

TEST(Numeric, FloorDivRoundsTowardMinusInfinity) {
  EXPECT_EQ(floor_div(7, 2), 3);
  EXPECT_EQ(floor_div(6, 2), 3);
  EXPECT_EQ(floor_div(0, 3), 0);
  EXPECT_EQ(floor_div(-1, 2), -1);  // -1 / 2 truncates to 0
  EXPECT_EQ(floor_div(-6, 2), -3);
  EXPECT_EQ(floor_div(-7, 2), -4);
  EXPECT_EQ(floor_div(-7, 3), -3);
  EXPECT_EQ(floor_div(-9, 3), -3);
  EXPECT_EQ(floor_div(-1, 1), -1);
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(floor_div(kMax, 2), kMax / 2);
  EXPECT_EQ(floor_div(-kMax, 2), -(kMax / 2) - 1);  // kMax is odd
  EXPECT_EQ(floor_div(-kMax, kMax), -1);
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(floor_div(kMin, 1), kMin);
  EXPECT_EQ(floor_div(kMin, 2), kMin / 2);
  EXPECT_EQ(floor_div(kMin, 3), kMin / 3 - 1);  // 2^63 is not a multiple of 3
  EXPECT_EQ(floor_div(kMin, kMax), -2);
}

TEST(Numeric, FloorDivMatchesTheRealQuotientOnASweep) {
  for (int64_t b = 1; b <= 9; ++b) {
    for (int64_t a = -50; a <= 50; ++a) {
      const auto want = static_cast<int64_t>(std::floor(static_cast<double>(a) / static_cast<double>(b)));
      EXPECT_EQ(floor_div(a, b), want) << a << " / " << b;
    }
  }
}

}  // namespace
}  // namespace onnx_mini
