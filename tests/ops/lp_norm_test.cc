// LpNormalization (p 1 and 2, every axis, negative ones included) against a
// double-precision reference; zero vectors give zeros as in ONNX Runtime;
// extreme magnitudes; errors. onnx 1.12 has no node test for it.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

std::vector<double> lp_reference(const Tensor& x, int64_t axis, int p) {
  const Shape& s = x.shape();
  std::vector<double> y(static_cast<size_t>(x.num_elements()));
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    std::vector<int64_t> c = unravel(i, s);
    double norm = 0;
    for (int64_t j = 0; j < s[static_cast<size_t>(axis)]; ++j) {
      c[static_cast<size_t>(axis)] = j;
      const double v = x.data<float>()[ravel(c, s)];
      norm += p == 1 ? std::abs(v) : v * v;
    }
    if (p == 2) norm = std::sqrt(norm);
    y[static_cast<size_t>(i)] = norm == 0 ? 0 : x.data<float>()[i] / norm;
  }
  return y;
}

TEST(LpNormalization, EveryAxisBothNorms) {
  const Shape shape = {2, 3, 4};
  const Tensor x = random_tensor(shape, 51, -4.f, 4.f);
  for (int p : {1, 2}) {
    for (int64_t axis = -3; axis < 3; ++axis) {
      auto out = NodeModel("LpNormalization", 1).feed(x).attr_int("p", p).attr_int("axis", axis).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      // Norm in double, one division rounded to float: 1 ulp, |y| <= 1.
      expect_close(out.value()[0], make_tensor<double>(shape, lp_reference(x, axis < 0 ? axis + 3 : axis, p)),
                   {1e-7, 2e-7}, "p " + std::to_string(p) + " axis " + std::to_string(axis));
    }
  }
}

TEST(LpNormalization, DefaultsAreL2OverTheLastAxis) {
  auto out = NodeModel("LpNormalization", 1).feed(make_tensor({2, 2}, {3, 4, -6, 8})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{0.6f, 0.8f, -0.6f, 0.8f}));
}

TEST(LpNormalization, ZeroVectorGivesZerosAsOnnxRuntime) {
  auto out = NodeModel("LpNormalization", 1).feed(make_tensor({2, 3}, {0, 0, 0, 1, -1, 0})).attr_int("p", 1).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{0, 0, 0, 0.5f, -0.5f, 0}));
}

TEST(LpNormalization, ExtremeMagnitudesNeitherOverflowNorUnderflow) {
  // Squares of 1e200 overflow double and of 1e-200 underflow; scaling by the
  // largest magnitude first keeps the exact answer, 0.6 and 0.8.
  for (double scale : {1e200, 1e-200}) {
    auto out = NodeModel("LpNormalization", 1).feed(make_tensor<double>({2}, {3 * scale, 4 * scale})).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    expect_close(out.value()[0], make_tensor<double>({2}, {0.6, 0.8}), {0, 1e-15});
  }
  // An infinity: Inf / Inf = NaN, finite / Inf = 0; a NaN spreads over its vector only.
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  auto out = NodeModel("LpNormalization", 1).feed(make_tensor({3, 2}, {inf, 1, nan, 0, 3, 4})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const auto y = values_of<float>(out.value()[0]);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], 0.f);
  EXPECT_TRUE(std::isnan(y[2]) && std::isnan(y[3]));
  EXPECT_EQ(y[4], 0.6f);
  EXPECT_EQ(y[5], 0.8f);
}

TEST(LpNormalization, ErrorsNameWhatIsWrong) {
  const Tensor x = random_tensor({2, 3}, 61);
  for (int64_t p : {int64_t{0}, int64_t{3}}) {
    auto bad = NodeModel("LpNormalization", 1).feed(x).attr_int("p", p).run();
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidModel) << bad.status().message();
  }
  for (int64_t axis : {int64_t{2}, int64_t{-3}}) {
    auto bad = NodeModel("LpNormalization", 1).feed(x).attr_int("axis", axis).run();
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidModel) << bad.status().message();
  }
  auto ints = NodeModel("LpNormalization", 1).feed(make_tensor<int32_t>({2}, {1, 2})).run();
  ASSERT_FALSE(ints.is_ok());
  EXPECT_NE(ints.status().code(), ErrorCode::kInternal) << ints.status().message();
}

}  // namespace
}  // namespace onnx_mini::testing
