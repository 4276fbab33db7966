// Gather, GatherElements, OneHot: reference results, negative indices, and
// out-of-range indices rejected with the index named (never read).
#include <gtest/gtest.h>

#include <limits>
#include <utility>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(Gather, AgainstReferenceEveryAxis) {
  Tensor x = random_tensor({3, 4, 5}, 51, -3.f, 3.f);
  for (int64_t axis : {0, 1, 2, -1}) {
    const int64_t ax = axis < 0 ? axis + 3 : axis;
    const int64_t dim = x.dim(ax);
    Tensor idx = make_tensor<int64_t>({2, 2}, {0, dim - 1, -1, -dim});
    auto out = NodeModel("Gather", 13).feed(x).feed(idx).attr_int("axis", axis).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    const Tensor& y = out.value()[0];
    Shape ys(x.shape().begin(), x.shape().begin() + ax);
    ys.push_back(2);
    ys.push_back(2);
    ys.insert(ys.end(), x.shape().begin() + ax + 1, x.shape().end());
    ASSERT_EQ(y.shape(), ys);
    for (int64_t i = 0; i < y.num_elements(); ++i) {
      auto c = unravel(i, ys);
      int64_t k = idx.data<int64_t>()[c[static_cast<size_t>(ax)] * 2 + c[static_cast<size_t>(ax) + 1]];
      if (k < 0) k += dim;
      std::vector<int64_t> xc(c.begin(), c.begin() + ax);
      xc.push_back(k);
      xc.insert(xc.end(), c.begin() + ax + 2, c.end());
      EXPECT_EQ(y.data<float>()[i], x.data<float>()[ravel(xc, x.shape())]);
    }
  }
}

TEST(Gather, OutOfRangeIndexNamesTheValue) {
  Tensor x = random_tensor({3, 4}, 52, -3.f, 3.f);
  for (int64_t bad : {3, -4, 1000000}) {
    auto out = NodeModel("Gather", 13).feed(x).feed(make_tensor<int32_t>({2}, {0, static_cast<int32_t>(bad)})).run();
    ASSERT_FALSE(out.is_ok());
    EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
    EXPECT_NE(out.status().message().find("index " + std::to_string(bad)), std::string::npos) << out.status().message();
    EXPECT_NE(out.status().message().find("'indices'"), std::string::npos);
  }
}

TEST(Gather, EmptyIndicesAndScalarIndex) {
  Tensor x = random_tensor({3, 4}, 53, -3.f, 3.f);
  auto empty = NodeModel("Gather", 13).feed(x).feed(Tensor::allocate(DataType::kInt64, {0})).run();
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty.value()[0].shape(), (Shape{0, 4}));
  auto sc = NodeModel("Gather", 13).feed(x).feed(scalar<int64_t>(-1)).attr_int("axis", 1).run();
  ASSERT_TRUE(sc.is_ok());
  EXPECT_EQ(sc.value()[0].shape(), (Shape{3}));
  EXPECT_EQ(sc.value()[0].data<float>()[2], x.data<float>()[11]);
}

TEST(GatherElements, AgainstReferenceAndBounds) {
  Tensor x = random_tensor({3, 4}, 54, -3.f, 3.f);
  Tensor idx = make_tensor<int64_t>({2, 4}, {0, 2, -1, 1, 2, 0, 1, -3});
  for (int64_t axis : {0, -2}) {
    auto out = NodeModel("GatherElements", 13).feed(x).feed(idx).attr_int("axis", axis).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    for (int64_t i = 0; i < 8; ++i) {
      int64_t k = idx.data<int64_t>()[i];
      if (k < 0) k += 3;
      EXPECT_EQ(out.value()[0].data<float>()[i], x.data<float>()[k * 4 + i % 4]);
    }
  }
  auto oob = NodeModel("GatherElements", 13).feed(x).feed(make_tensor<int64_t>({1, 1}, {3})).run();
  ASSERT_FALSE(oob.is_ok());
  EXPECT_NE(oob.status().message().find("index 3"), std::string::npos);
  // indices larger than data off the axis would read outside: rejected.
  EXPECT_FALSE(NodeModel("GatherElements", 13).feed(x).feed(Tensor::allocate(DataType::kInt64, {1, 5})).run().is_ok());
  EXPECT_FALSE(NodeModel("GatherElements", 13).feed(x).feed(Tensor::allocate(DataType::kInt64, {4})).run().is_ok());
}

TEST(OneHot, AxesNegativeIndicesAndOutOfRange) {
  Tensor idx = make_tensor<int64_t>({3}, {0, -1, 5});  // 5 is outside [-3, 3): an all-off row
  Tensor values = make_tensor<float>({2}, {0, 1});
  auto out = NodeModel("OneHot", 11).feed(idx).feed(scalar<int64_t>(3)).feed(values).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{3, 3}));
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{1, 0, 0, 0, 0, 1, 0, 0, 0}));
  auto ax0 = NodeModel("OneHot", 11).feed(idx).feed(scalar<float>(3)).feed(values).attr_int("axis", 0).run();
  ASSERT_TRUE(ax0.is_ok());
  EXPECT_EQ(values_of<float>(ax0.value()[0]), (std::vector<float>{1, 0, 0, 0, 0, 0, 0, 1, 0}));
  auto bad = NodeModel("OneHot", 11).feed(idx).feed(scalar<int64_t>(0)).feed(values).run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'depth'"), std::string::npos);
}

// A NaN index names no position: an all-off row like any index outside the
// range (the ONNX reference's astype(int64) makes it INT64_MIN), never row 0.
// ±Inf saturate out of range; fractions truncate toward zero.
TEST(OneHot, NaNAndInfiniteFloatIndicesGiveAllOffRows) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor idx = make_tensor<float>({5}, {nan, inf, -inf, 1.7f, -1.7f});
  Tensor values = make_tensor<float>({2}, {0, 1});
  auto out = NodeModel("OneHot", 11).feed(idx).feed(scalar<int64_t>(3)).feed(values).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]),
            (std::vector<float>{0, 0, 0, /*inf*/ 0, 0, 0, /*-inf*/ 0, 0, 0, /*1.7*/ 0, 1, 0, /*-1.7 -> -1*/ 0, 0, 1}));
}

// A fed depth wrong in itself (NaN, below 1) is bad input saying what it is
// (NaN used to read as "0 is not positive"); one too large to allocate is a
// resource limit; a fractional depth truncates as the reference's astype(int64).
TEST(OneHot, FedDepthNaNNonPositiveOrHuge) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor idx = make_tensor<int64_t>({2}, {0, 1});
  Tensor values = make_tensor<float>({2}, {0, 1});
  auto run = [&](float depth) { return NodeModel("OneHot", 11).feed(idx).feed(scalar<float>(depth)).feed(values).run(); };
  const std::pair<float, const char*> bad[] = {{nan, "input 'depth' is NaN"}, {0.5f, "input 'depth': 0.5 is not positive"},
                                               {-inf, "input 'depth': -inf is not positive"}};
  for (const auto& [depth, message] : bad) {
    auto out = run(depth);
    ASSERT_FALSE(out.is_ok()) << depth;
    EXPECT_EQ(out.status().code(), ErrorCode::kBadInput) << depth;
    EXPECT_NE(out.status().message().find(message), std::string::npos) << out.status().message();
  }
  for (float huge : {1e30f, inf}) {
    auto out = run(huge);
    ASSERT_FALSE(out.is_ok()) << huge;
    EXPECT_EQ(out.status().code(), ErrorCode::kResourceLimit) << out.status().message();
  }
  auto fraction = run(2.9f);
  ASSERT_TRUE(fraction.is_ok()) << fraction.status().message();
  EXPECT_EQ(fraction.value()[0].shape(), (Shape{2, 2}));
}

// OneHot-9 has no negative indices (outside [0, depth): all off); 11 counts them from the end.
TEST(OneHot, NegativeIndicesOnlyFromOpset11) {
  Tensor idx = make_tensor<int64_t>({2}, {-1, 1});
  Tensor values = make_tensor<float>({2}, {0, 1});
  auto v9 = NodeModel("OneHot", 10).feed(idx).feed(scalar<int64_t>(3)).feed(values).run();
  ASSERT_TRUE(v9.is_ok()) << v9.status().message();
  EXPECT_EQ(values_of<float>(v9.value()[0]), (std::vector<float>{0, 0, 0, 0, 1, 0}));
  auto v11 = NodeModel("OneHot", 11).feed(idx).feed(scalar<int64_t>(3)).feed(values).run();
  ASSERT_TRUE(v11.is_ok()) << v11.status().message();
  EXPECT_EQ(values_of<float>(v11.value()[0]), (std::vector<float>{0, 0, 1, 0, 1, 0}));
}

}  // namespace
}  // namespace onnx_mini::testing
