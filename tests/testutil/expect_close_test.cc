// The shared comparison fails where it must: ONNX Runtime's bound, the magnitude
// floor, NaN and Inf matched exactly, shapes and integer tensors.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr Tolerance kOrt = {.atol = 1e-5, .rtol = 1e-4};
constexpr Tolerance kHuge = {.atol = 1e30, .rtol = 1e30};

Tensor one(double v) { return make_tensor<double>({1}, {v}); }

TEST(ExpectClose, OrtBoundIsAtolPlusRtolTimesWant) {
  // want 100: bound 1e-5 + 1e-2.
  expect_close(one(100 + 0.0100099), one(100), kOrt);
  EXPECT_NONFATAL_FAILURE(expect_close(one(100 + 0.0100101), one(100), kOrt), "out of tolerance");
  EXPECT_NONFATAL_FAILURE(expect_close(one(100 - 0.0100101), one(100), kOrt), "out of tolerance");
}

TEST(ExpectClose, MagnitudeFloorMakesTheBoundAbsoluteBelowOne) {
  const Tolerance floor_one = {.rtol = 1e-6, .magnitude_floor = 1};
  const Tolerance relative = {.rtol = 1e-6};
  expect_close(one(0.5 + 0.9e-6), one(0.5), floor_one);
  EXPECT_NONFATAL_FAILURE(expect_close(one(0.5 + 0.9e-6), one(0.5), relative), "out of tolerance");
  // Above 1 the floor changes nothing.
  EXPECT_NONFATAL_FAILURE(expect_close(one(4 + 4.1e-6), one(4), floor_one), "out of tolerance");
}

TEST(ExpectClose, NanAndInfMustMatchExactly) {
  const double nan = std::nan("");
  expect_close(one(nan), one(nan), kOrt);
  expect_close(one(kInf), one(kInf), kOrt);
  expect_close(one(-kInf), one(-kInf), kOrt);
  // No tolerance, however wide, lets a NaN or an Inf through.
  EXPECT_NONFATAL_FAILURE(expect_close(one(nan), one(1), kHuge), "out of tolerance");
  EXPECT_NONFATAL_FAILURE(expect_close(one(1), one(nan), kHuge), "out of tolerance");
  EXPECT_NONFATAL_FAILURE(expect_close(one(kInf), one(1), kHuge), "out of tolerance");
  EXPECT_NONFATAL_FAILURE(expect_close(one(1e300), one(kInf), kHuge), "out of tolerance");
  EXPECT_NONFATAL_FAILURE(expect_close(one(-kInf), one(kInf), kHuge), "out of tolerance");
}

TEST(ExpectClose, FloatResultAgainstDoubleReference) {
  const float third = 1.0f / 3;
  expect_close(make_tensor<float>({2}, {third, 2}), make_tensor<double>({2}, {1.0 / 3, 2}), {.rtol = 1e-7});
  EXPECT_NONFATAL_FAILURE(
      expect_close(make_tensor<float>({1}, {third}), make_tensor<double>({1}, {1.0 / 3}), {.rtol = 1e-9}),
      "out of tolerance");
}

TEST(ExpectClose, DtypeMismatchFailsExceptADoubleReference) {
  EXPECT_FATAL_FAILURE(expect_close(make_tensor<double>({1}, {1}), make_tensor<float>({1}, {1}), kHuge), "dtype");
  EXPECT_FATAL_FAILURE(expect_close(make_tensor<float>({1}, {1}), make_tensor<int64_t>({1}, {1}), kHuge), "dtype");
}

TEST(ExpectClose, ShapeMismatchFails) {
  EXPECT_FATAL_FAILURE(expect_close(make_tensor<float>({2}, {1, 2}), make_tensor<float>({1, 2}, {1, 2}), kHuge),
                       "shape");
}

TEST(ExpectClose, IntegerTensorsCompareExactly) {
  expect_close(make_tensor<int64_t>({2}, {7, -1}), make_tensor<int64_t>({2}, {7, -1}), kHuge);
  EXPECT_NONFATAL_FAILURE(
      expect_close(make_tensor<int64_t>({2}, {7, -1}), make_tensor<int64_t>({2}, {7, 0}), kHuge), "memcmp");
}

TEST(RandomTensor, SeededDeterministicAndInRange) {
  Tensor a = random_tensor({1000}, 7, -2.f, 3.f), b = random_tensor({1000}, 7, -2.f, 3.f);
  Tensor c = random_tensor({1000}, 8, -2.f, 3.f);
  EXPECT_EQ(values_of<float>(a), values_of<float>(b));
  EXPECT_NE(values_of<float>(a), values_of<float>(c));
  float lo = 3, hi = -2;
  for (float v : values_of<float>(a)) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, -2.f);
  EXPECT_LT(hi, 3.f);
  EXPECT_LT(lo, -1.9f) << "1000 uniform draws should nearly reach both ends";
  EXPECT_GT(hi, 2.9f);
}

TEST(MakeTensor, WrongValueCountIsATestFailure) {
  EXPECT_NONFATAL_FAILURE(make_tensor<float>({3}, {1, 2}), "2 values for float[3]");
}

}  // namespace
}  // namespace onnx_mini::testing
