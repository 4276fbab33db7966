// CumSum against a double-precision running sum: every axis, both flags, the
// dtypes it takes, integer wrap-around, and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Reference over a row-major tensor of `dims`, summing along `axis`.
std::vector<double> reference(const std::vector<double>& x, const std::vector<int64_t>& dims, int64_t axis, bool exclusive,
                              bool reverse) {
  int64_t outer = 1, len = dims[static_cast<size_t>(axis)], inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= dims[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < dims.size(); ++d) inner *= dims[d];
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      for (int64_t a = 0; a < len; ++a) {
        double s = 0;
        for (int64_t b = 0; b < len; ++b) {
          const bool before = reverse ? b > a : b < a;
          if (before || (!exclusive && b == a)) s += x[static_cast<size_t>((o * len + b) * inner + j)];
        }
        y[static_cast<size_t>((o * len + a) * inner + j)] = s;
      }
    }
  }
  return y;
}

TEST(CumSum, EveryAxisAndFlagAgainstTheDefinition) {
  // inner = 70 on axis 0 crosses the kernel's block of 64 inner positions.
  const std::vector<int64_t> dims = {3, 7, 10};
  const Tensor x = random_tensor({3, 7, 10}, 11);
  const std::vector<float> xf = values_of<float>(x);
  const std::vector<double> xd(xf.begin(), xf.end());
  for (int64_t axis = -3; axis < 3; ++axis) {
    for (int flags = 0; flags < 4; ++flags) {
      const bool exclusive = flags & 1, reverse = flags & 2;
      auto out = NodeModel("CumSum", 14).feed(x).feed(scalar<int64_t>(axis)).attr_int("exclusive", exclusive).attr_int("reverse", reverse).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const auto ref = reference(xd, dims, axis < 0 ? axis + 3 : axis, exclusive, reverse);
      const auto y = values_of<float>(out.value()[0]);
      // Summed in double and rounded once: each output is the float nearest the
      // exact sum of at most 10 float terms (the reference's double sum of them
      // is exact to far below half an ULP of the float result).
      for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], static_cast<float>(ref[i])) << "axis " << axis << " flags " << flags << " at " << i;
    }
  }
}

TEST(CumSum, LongFloatAxesKeepTheSmallTerms) {
  // 2^25 ones: a float running sum sticks at 2^24; summed in double each prefix is exact.
  const int64_t n = int64_t{1} << 25;
  auto out = NodeModel("CumSum", 11).feed(make_tensor(Shape{n}, std::vector<float>(static_cast<size_t>(n), 1.f))).feed(scalar<int32_t>(0)).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].data<float>()[n - 1], static_cast<float>(n));
}

TEST(CumSum, IntegersWrapAndUnsignedTypesWork) {
  const int64_t big = std::numeric_limits<int64_t>::max();
  auto i64 = NodeModel("CumSum", 14).feed(make_tensor<int64_t>({3}, {big, 1, 1})).feed(scalar<int64_t>(0)).run();
  ASSERT_TRUE(i64.is_ok()) << i64.status().message();
  EXPECT_EQ(values_of<int64_t>(i64.value()[0]), (std::vector<int64_t>{big, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::min() + 1}));
  auto u32 = NodeModel("CumSum", 14).feed(make_tensor<uint32_t>({2, 2}, {1, 2, 3, 4})).feed(scalar<int64_t>(1)).attr_int("reverse", 1).run();
  ASSERT_TRUE(u32.is_ok()) << u32.status().message();
  EXPECT_EQ(values_of<uint32_t>(u32.value()[0]), (std::vector<uint32_t>{3, 2, 7, 4}));
  auto d = NodeModel("CumSum", 14).feed(make_tensor<double>({3}, {0.1, 0.2, 0.3})).feed(scalar<int64_t>(0)).attr_int("exclusive", 1).run();
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(values_of<double>(d.value()[0]), (std::vector<double>{0, 0.1, 0.1 + 0.2}));
}

TEST(CumSum, EmptyTensorsAndOneElementAxisTensors) {
  auto empty = NodeModel("CumSum", 14).feed(make_tensor({2, 0}, {})).feed(scalar<int64_t>(1)).run();
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty.value()[0].shape(), (Shape{2, 0}));
  auto axis1d = NodeModel("CumSum", 14).feed(make_tensor({2}, {1, 2})).feed(ints({0})).run();
  ASSERT_TRUE(axis1d.is_ok()) << axis1d.status().message();
  EXPECT_EQ(values_of<float>(axis1d.value()[0]), (std::vector<float>{1, 3}));
}

TEST(CumSum, ErrorsNameWhatIsWrong) {
  auto range = NodeModel("CumSum", 14).feed(make_tensor({2}, {1, 2})).feed(scalar<int64_t>(1)).run();
  ASSERT_FALSE(range.is_ok());
  EXPECT_EQ(range.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(range.status().message().find("out of range"), std::string::npos) << range.status().message();
  auto two = NodeModel("CumSum", 14).feed(make_tensor({2}, {1, 2})).feed(ints({0, 0})).run();
  ASSERT_FALSE(two.is_ok());
  EXPECT_NE(two.status().message().find("'axis'"), std::string::npos);
  auto float_axis = NodeModel("CumSum", 14).feed(make_tensor({2}, {1, 2})).feed(scalar<float>(0)).run();
  ASSERT_FALSE(float_axis.is_ok());
  EXPECT_EQ(float_axis.status().code(), ErrorCode::kInvalidModel);
  auto int8 = NodeModel("CumSum", 14).feed(make_tensor<int8_t>({2}, {1, 2})).feed(scalar<int64_t>(0)).run();
  ASSERT_FALSE(int8.is_ok());
  EXPECT_EQ(int8.status().code(), ErrorCode::kInvalidModel);
  auto flag = NodeModel("CumSum", 14).feed(make_tensor({2}, {1, 2})).feed(scalar<int64_t>(0)).attr_int("reverse", 3).run();
  ASSERT_FALSE(flag.is_ok());
  EXPECT_EQ(flag.status().code(), ErrorCode::kInvalidModel);
  auto scalar_x = NodeModel("CumSum", 14).feed(scalar<float>(1)).feed(scalar<int64_t>(0)).run();
  ASSERT_FALSE(scalar_x.is_ok());
}

}  // namespace
}  // namespace onnx_mini::testing
