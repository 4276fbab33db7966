// GroupNormalization at opsets 18 (scale/bias per group) and 21 (per channel,
// stash_type) against a double-precision reference written from the spec, for
// spatial ranks 0 to 3, and its errors. onnx 1.12 has no node test for it.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Each [n, group] block of C / G channels normalised by its own mean and
// biased variance; parameter index = channel (per_channel) or group.
template <typename T>
std::vector<double> group_norm_reference(const Tensor& x, const Tensor& scale, const Tensor& bias, int64_t groups,
                                         double eps, bool per_channel) {
  const int64_t n = x.dim(0), c = x.dim(1), per_group = c / groups;
  const int64_t plane = x.num_elements() / (n * c);
  const T* xs = x.data<T>();
  std::vector<double> y(static_cast<size_t>(x.num_elements()));
  for (int64_t b = 0; b < n * groups; ++b) {
    const int64_t first = b * per_group * plane, count = per_group * plane;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < count; ++i) mean += xs[first + i];
    mean /= static_cast<double>(count);
    for (int64_t i = 0; i < count; ++i) var += (xs[first + i] - mean) * (xs[first + i] - mean);
    var /= static_cast<double>(count);
    for (int64_t i = 0; i < count; ++i) {
      const int64_t channel = (b % groups) * per_group + i / plane;
      const int64_t p = per_channel ? channel : b % groups;
      y[static_cast<size_t>(first + i)] = (xs[first + i] - mean) / std::sqrt(var + eps) * scale.data<T>()[p] +
                                          bias.data<T>()[p];
    }
  }
  return y;
}

const std::vector<Shape> kShapes = {{3, 6}, {2, 6, 5}, {2, 4, 3, 5}, {1, 6, 2, 3, 4}};  // spatial ranks 0..3

TEST(GroupNormalization, EverySpatialRankAtBothOpsets) {
  for (int opset : {18, 21}) {
    for (const Shape& shape : kShapes) {
      for (int64_t groups : {int64_t{1}, int64_t{2}, shape[1]}) {
        const bool per_channel = opset >= 21;
        const int64_t params = per_channel ? shape[1] : groups;
        const Tensor x = random_tensor(shape, 11 + groups, -3.f, 5.f);
        const Tensor s = random_tensor({params}, 12, 0.5f, 2.f), b = random_tensor({params}, 13);
        auto out = NodeModel("GroupNormalization", opset).feed(x).init(s).init(b)
                       .attr_int("num_groups", groups).attr_float("epsilon", 1e-3f).run();
        const std::string what = "opset " + std::to_string(opset) + " " + shape_to_string(shape) + " groups " +
                                 std::to_string(groups);
        ASSERT_TRUE(out.is_ok()) << what << ": " << out.status().message();
        // Statistics in double, then one float multiply-add from coefficients
        // formed in double: a few ulp of max(|x * a|, |b|) <= ~100 (|x| <= 5,
        // scale <= 2, inv_std <= 1 / sqrt(eps) ~ 32 only for 1-element groups).
        expect_close(out.value()[0],
                     make_tensor<double>(shape, group_norm_reference<float>(x, s, b, groups, 1e-3, per_channel)),
                     {2e-5, 1e-5}, what);
      }
    }
  }
}

TEST(GroupNormalization, WorkedExampleFromTheSpec) {
  // X [1, 4, 2]: groups {c0, c1} and {c2, c3}. Group 0 holds 1..4: mean 2.5,
  // variance 1.25; group 1 holds 10, 10, 10, 10: variance 0, so its
  // normalised values are 0 / sqrt(epsilon) = 0 and y is the bias alone.
  // epsilon is the default 1e-5.
  const Tensor x = make_tensor({1, 4, 2}, {1, 2, 3, 4, 10, 10, 10, 10});
  const double d = std::sqrt(1.25 + 1e-5);
  auto v18 = NodeModel("GroupNormalization", 18).feed(x).feed(make_tensor({2}, {2, 1})).feed(make_tensor({2}, {0, 7}))
                 .attr_int("num_groups", 2).run();
  ASSERT_TRUE(v18.is_ok()) << v18.status().message();
  // Exactness: float rounding of values computed in double, 1e-6 relative.
  expect_close(v18.value()[0], make_tensor<double>({1, 4, 2}, {-3 / d, -1 / d, 1 / d, 3 / d, 7, 7, 7, 7}), {1e-6, 1e-6});
  auto v21 = NodeModel("GroupNormalization", 21).feed(x).feed(make_tensor({4}, {1, 2, 1, 1}))
                 .feed(make_tensor({4}, {0, 0, 5, 6})).attr_int("num_groups", 2).run();
  ASSERT_TRUE(v21.is_ok()) << v21.status().message();
  expect_close(v21.value()[0], make_tensor<double>({1, 4, 2}, {-1.5 / d, -0.5 / d, 1 / d, 3 / d, 5, 5, 6, 6}),
               {1e-6, 1e-6});
}

TEST(GroupNormalization, DoubleAndStashTypeAndDefaultEpsilon) {
  const Shape shape = {2, 4, 3};
  Tensor x = Tensor::allocate(DataType::kDouble, shape);
  const Tensor xf = random_tensor(shape, 21, -2.f, 2.f);
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<double>()[i] = xf.data<float>()[i];
  const Tensor s = make_tensor<double>({4}, {1, 2, 3, 4}), b = make_tensor<double>({4}, {0, 1, 0, 1});
  for (int64_t stash : {int64_t{1}, int64_t{11}}) {
    auto out = NodeModel("GroupNormalization", 21).feed(x).feed(s).feed(b).attr_int("num_groups", 2)
                   .attr_int("stash_type", stash).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    // Double throughout: only rounding of a few operations, 1e-12.
    expect_close(out.value()[0], make_tensor<double>(shape, group_norm_reference<double>(x, s, b, 2, 1e-5, true)),
                 {1e-12, 1e-12});
  }
  auto half = NodeModel("GroupNormalization", 21).feed(x).feed(s).feed(b).attr_int("num_groups", 2)
                  .attr_int("stash_type", 10).run();
  ASSERT_FALSE(half.is_ok());
  EXPECT_EQ(half.status().code(), ErrorCode::kUnsupported) << half.status().message();
}

TEST(GroupNormalization, OpsetPicksTheParameterLayout) {
  // 6 channels, 3 groups: a [3] scale is right at 18 and wrong at 21, a [6] the reverse.
  const Tensor x = random_tensor({1, 6, 2}, 31);
  const Tensor three = random_tensor({3}, 32), six = random_tensor({6}, 33);
  for (int opset : {18, 19, 20}) {
    EXPECT_TRUE(NodeModel("GroupNormalization", opset).feed(x).init(three).init(three).attr_int("num_groups", 3).run().is_ok());
    auto wrong = NodeModel("GroupNormalization", opset).feed(x).init(six).init(six).attr_int("num_groups", 3).run();
    ASSERT_FALSE(wrong.is_ok());
    EXPECT_EQ(wrong.status().code(), ErrorCode::kInvalidModel) << wrong.status().message();
  }
  EXPECT_TRUE(NodeModel("GroupNormalization", 21).feed(x).init(six).init(six).attr_int("num_groups", 3).run().is_ok());
  // Known at load: an invalid model; symbolic at load: bad input at run time.
  auto known = NodeModel("GroupNormalization", 21).feed(x).feed(three).feed(three).attr_int("num_groups", 3).run();
  ASSERT_FALSE(known.is_ok());
  EXPECT_EQ(known.status().code(), ErrorCode::kInvalidModel) << known.status().message();
  auto fed = NodeModel("GroupNormalization", 21).feed(x).input(In::feed_symbolic(three)).input(In::feed_symbolic(three))
                 .attr_int("num_groups", 3).run();
  ASSERT_FALSE(fed.is_ok());
  EXPECT_EQ(fed.status().code(), ErrorCode::kBadInput) << fed.status().message();
  // stash_type does not exist before 21.
  EXPECT_FALSE(NodeModel("GroupNormalization", 18).feed(x).init(three).init(three).attr_int("num_groups", 3)
                   .attr_int("stash_type", 1).run().is_ok());
}

TEST(GroupNormalization, ErrorsNameWhatIsWrong) {
  const Tensor x = random_tensor({2, 6, 3}, 41), six = random_tensor({6}, 43);
  // C = 6 is not divisible by 4 groups: at load when C is known...
  auto known = NodeModel("GroupNormalization", 21).feed(x).feed(six).feed(six).attr_int("num_groups", 4).run();
  ASSERT_FALSE(known.is_ok());
  EXPECT_EQ(known.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(known.status().message().find("not divisible by num_groups 4"), std::string::npos) << known.status().message();
  // ...and at run time when C is symbolic.
  auto symbolic = NodeModel("GroupNormalization", 21).input(In::feed_symbolic(x)).feed(six).feed(six)
                      .attr_int("num_groups", 4).run();
  ASSERT_FALSE(symbolic.is_ok());
  EXPECT_EQ(symbolic.status().code(), ErrorCode::kBadInput) << symbolic.status().message();
  auto missing = NodeModel("GroupNormalization", 21).feed(x).feed(six).feed(six).run();
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("num_groups"), std::string::npos) << missing.status().message();
  for (int64_t bad : {int64_t{0}, int64_t{-2}}) {
    EXPECT_FALSE(NodeModel("GroupNormalization", 21).feed(x).feed(six).feed(six).attr_int("num_groups", bad).run().is_ok());
  }
  auto rank1 = NodeModel("GroupNormalization", 21).feed(make_tensor({6}, {1, 2, 3, 4, 5, 6})).feed(six).feed(six)
                   .attr_int("num_groups", 2).run();
  EXPECT_FALSE(rank1.is_ok());
  auto ints = NodeModel("GroupNormalization", 21).feed(make_tensor<int32_t>({1, 2}, {1, 2}))
                  .feed(make_tensor<int32_t>({2}, {1, 1})).feed(make_tensor<int32_t>({2}, {0, 0}))
                  .attr_int("num_groups", 1).run();
  ASSERT_FALSE(ints.is_ok());
  EXPECT_NE(ints.status().code(), ErrorCode::kInternal) << ints.status().message();
}

}  // namespace
}  // namespace onnx_mini::testing
