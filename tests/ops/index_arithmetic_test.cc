// Run-time index arithmetic on extreme fed values: the `start + step * i`
// pattern and sums of sizes must not overflow int64 (the sanitizer build turns
// any signed overflow into a failure), and the answers must be right.
#include <gtest/gtest.h>

#include <limits>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// x is [5, 3] holding 0..14; slices of one element per sliced axis.
TEST(IndexArithmetic, SliceStepsThatTakeOneElement) {
  std::vector<float> v(15);
  for (int i = 0; i < 15; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  const Tensor x = make_tensor({5, 3}, v);
  struct Case {
    std::vector<int64_t> starts, ends, axes, steps;
    Shape shape;
    std::vector<float> values;
  };
  const Case cases[] = {
      {{0}, {kMax}, {0}, {int64_t{1} << 62}, {1, 3}, {0, 1, 2}},   // 3 * 2^62 overflowed
      {{-1}, {kMin}, {0}, {kMin}, {1, 3}, {12, 13, 14}},
      {{kMin}, {kMax}, {0}, {kMax}, {1, 3}, {0, 1, 2}},
      {{4, 2}, {kMin, kMin}, {0, 1}, {-(int64_t{1} << 62), kMin}, {1, 1}, {14}},
      {{1}, {kMax}, {1}, {kMax}, {5, 1}, {1, 4, 7, 10, 13}},
      {{kMax}, {kMin}, {1}, {-kMax}, {5, 1}, {2, 5, 8, 11, 14}},
  };
  for (const Case& c : cases) {
    auto out = NodeModel("Slice", 13).feed(x).feed(ints(c.starts)).feed(ints(c.ends)).feed(ints(c.axes)).feed(ints(c.steps)).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    ASSERT_EQ(out.value()[0].shape(), c.shape);
    for (size_t i = 0; i < c.values.size(); ++i) EXPECT_EQ(out.value()[0].data<float>()[i], c.values[i]) << i;
  }
}

TEST(IndexArithmetic, SplitSizesThatWouldOverflowTheirSum) {
  const Tensor x = make_tensor({4}, {1, 2, 3, 4});
  for (const std::vector<int64_t>& sizes : {std::vector<int64_t>{1, kMax}, {kMax, kMax}, {kMax, 1}}) {
    auto out = NodeModel("Split", 13).feed(x).feed(ints(sizes)).outputs(2).run();
    ASSERT_FALSE(out.is_ok());
    EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
    EXPECT_NE(out.status().message().find("sums to more than the axis size 4"), std::string::npos) << out.status().message();
  }
}

TEST(IndexArithmetic, GatherAndGatherElementsIndicesAtTheInt64Ends) {
  const Tensor x = make_tensor({3}, {1, 2, 3});
  for (int64_t index : {kMin, kMax, int64_t{-4}, int64_t{3}}) {
    auto g = NodeModel("Gather", 13).feed(x).feed(ints({index})).run();
    ASSERT_FALSE(g.is_ok());
    EXPECT_EQ(g.status().code(), ErrorCode::kBadInput);
    auto ge = NodeModel("GatherElements", 13).feed(x).feed(ints({index})).run();
    ASSERT_FALSE(ge.is_ok());
    EXPECT_EQ(ge.status().code(), ErrorCode::kBadInput);
  }
  auto last = NodeModel("Gather", 13).feed(x).feed(ints({-3})).run();
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last.value()[0].data<float>()[0], 1.0f);
}

TEST(IndexArithmetic, AxesAtTheInt64EndsAreRefused) {
  const Tensor x = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  for (int64_t axis : {kMin, kMax}) {
    EXPECT_FALSE(NodeModel("Unsqueeze", 13).feed(x).feed(ints({axis})).run().is_ok()) << axis;
    EXPECT_FALSE(NodeModel("Squeeze", 13).feed(x).feed(ints({axis})).run().is_ok()) << axis;
    EXPECT_FALSE(NodeModel("ReduceSum", 13).feed(x).feed(ints({axis})).run().is_ok()) << axis;
    EXPECT_FALSE(NodeModel("Slice", 13).feed(x).feed(ints({0})).feed(ints({1})).feed(ints({axis})).run().is_ok()) << axis;
  }
}

TEST(IndexArithmetic, RangeAtTheInt64Ends) {
  // Counts past the limit are refused (exit 6); small ranges at the ends are exact.
  auto huge = NodeModel("Range", 11).feed(make_tensor<int64_t>({}, {kMin})).feed(make_tensor<int64_t>({}, {kMax})).feed(make_tensor<int64_t>({}, {1})).run();
  ASSERT_FALSE(huge.is_ok());
  EXPECT_EQ(huge.status().code(), ErrorCode::kResourceLimit);
  auto top = NodeModel("Range", 11).feed(make_tensor<int64_t>({}, {kMax - 2})).feed(make_tensor<int64_t>({}, {kMax})).feed(make_tensor<int64_t>({}, {1})).run();
  ASSERT_TRUE(top.is_ok()) << top.status().message();
  ASSERT_EQ(top.value()[0].num_elements(), 2);
  EXPECT_EQ(top.value()[0].data<int64_t>()[1], kMax - 1);
  auto down = NodeModel("Range", 11).feed(make_tensor<int64_t>({}, {kMin + 2})).feed(make_tensor<int64_t>({}, {kMin})).feed(make_tensor<int64_t>({}, {kMin})).run();
  ASSERT_TRUE(down.is_ok()) << down.status().message();
  ASSERT_EQ(down.value()[0].num_elements(), 1);
  EXPECT_EQ(down.value()[0].data<int64_t>()[0], kMin + 2);
}

}  // namespace
}  // namespace onnx_mini::testing
