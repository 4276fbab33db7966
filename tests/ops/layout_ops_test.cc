// Transpose, Squeeze, Unsqueeze, Expand, Shape, Size, Dropout.
#include <gtest/gtest.h>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(Layout, TransposeAgainstReference) {
  Tensor x = random_tensor({2, 3, 4}, 41, -3.f, 3.f);
  const std::vector<std::vector<int64_t>> perms = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}, {2, 1, 0}};
  for (const auto& p : perms) {
    auto out = NodeModel("Transpose", 13).feed(x).attr_ints("perm", p).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    const Tensor& y = out.value()[0];
    Shape ys = {x.dim(p[0]), x.dim(p[1]), x.dim(p[2])};
    ASSERT_EQ(y.shape(), ys);
    for (int64_t i = 0; i < y.num_elements(); ++i) {
      auto c = unravel(i, ys);
      std::vector<int64_t> ic(3);
      for (size_t d = 0; d < 3; ++d) ic[static_cast<size_t>(p[d])] = c[d];
      EXPECT_EQ(y.data<float>()[i], x.data<float>()[ravel(ic, x.shape())]);
    }
  }
  auto rev = NodeModel("Transpose", 13).feed(x).run();  // default: reversed
  ASSERT_TRUE(rev.is_ok());
  EXPECT_EQ(rev.value()[0].shape(), (Shape{4, 3, 2}));
  EXPECT_FALSE(NodeModel("Transpose", 13).feed(x).attr_ints("perm", {0, 0, 1}).run().is_ok());
  EXPECT_FALSE(NodeModel("Transpose", 13).feed(x).attr_ints("perm", {0, 1}).run().is_ok());
}

TEST(Layout, SqueezeUnsqueezeAttributeBefore13InputAfter) {
  Tensor x = random_tensor({1, 3, 1, 2}, 42, -3.f, 3.f);
  auto a = NodeModel("Squeeze", 11).feed(x).attr_ints("axes", {-2}).run();
  ASSERT_TRUE(a.is_ok()) << a.status().message();
  EXPECT_EQ(a.value()[0].shape(), (Shape{1, 3, 2}));
  auto b = NodeModel("Squeeze", 13).feed(x).init(ints({0, 2})).run();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(b.value()[0].shape(), (Shape{3, 2}));
  auto all = NodeModel("Squeeze", 13).feed(x).run();
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all.value()[0].shape(), (Shape{3, 2}));
  EXPECT_EQ(values_of<float>(all.value()[0]), values_of<float>(x));
  auto bad = NodeModel("Squeeze", 13).feed(x).feed(ints({1})).run();  // dim 3 is not 1
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("axis 1"), std::string::npos) << bad.status().message();
  EXPECT_FALSE(NodeModel("Squeeze", 13).feed(x).attr_ints("axes", {0}).run().is_ok());  // attribute gone at 13

  Tensor y = random_tensor({3, 2}, 43, -3.f, 3.f);
  auto u11 = NodeModel("Unsqueeze", 11).feed(y).attr_ints("axes", {0, -1}).run();
  ASSERT_TRUE(u11.is_ok()) << u11.status().message();
  EXPECT_EQ(u11.value()[0].shape(), (Shape{1, 3, 2, 1}));
  auto u13 = NodeModel("Unsqueeze", 13).feed(y).feed(ints({1})).run();
  ASSERT_TRUE(u13.is_ok());
  EXPECT_EQ(u13.value()[0].shape(), (Shape{3, 1, 2}));
  auto oob = NodeModel("Unsqueeze", 13).feed(y).feed(ints({3})).run();
  ASSERT_FALSE(oob.is_ok());
  EXPECT_NE(oob.status().message().find("axis 3"), std::string::npos);
}

TEST(Layout, ExpandBroadcasts) {
  Tensor x = make_tensor<float>({3, 1}, {1, 2, 3});
  auto out = NodeModel("Expand", 13).feed(x).init(ints({2, 1, 4})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const Tensor& y = out.value()[0];
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  for (int64_t i = 0; i < y.num_elements(); ++i) EXPECT_EQ(y.data<float>()[i], static_cast<float>(unravel(i, y.shape())[1] + 1));
  auto neg = NodeModel("Expand", 13).feed(x).feed(ints({-1, 4})).run();
  ASSERT_FALSE(neg.is_ok());
  EXPECT_NE(neg.status().message().find("-1"), std::string::npos);
  EXPECT_FALSE(NodeModel("Expand", 13).feed(x).feed(ints({2, 4})).run().is_ok());  // 3 vs 2
}

TEST(Layout, ShapeStartEndFromOpset15) {
  Tensor x = Tensor::allocate(DataType::kFloat, {2, 3, 4, 5});
  auto all = NodeModel("Shape", 13).feed(x).run();
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(values_of<int64_t>(all.value()[0]), (std::vector<int64_t>{2, 3, 4, 5}));
  auto part = NodeModel("Shape", 15).feed(x).attr_int("start", -3).attr_int("end", -1).run();
  ASSERT_TRUE(part.is_ok());
  EXPECT_EQ(values_of<int64_t>(part.value()[0]), (std::vector<int64_t>{3, 4}));
  auto clamped = NodeModel("Shape", 15).feed(x).attr_int("start", 10).run();
  ASSERT_TRUE(clamped.is_ok());
  EXPECT_EQ(clamped.value()[0].num_elements(), 0);
  EXPECT_FALSE(NodeModel("Shape", 13).feed(x).attr_int("start", 1).run().is_ok());
  auto size = NodeModel("Size", 13).feed(x).run();
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(size.value()[0].data<int64_t>()[0], 120);
}

TEST(Layout, DropoutIsIdentityWithTrueMask) {
  Tensor x = random_tensor({2, 3}, 44, -3.f, 3.f);
  auto out = NodeModel("Dropout", 13).feed(x).feed(scalar<float>(0.5f)).outputs(2).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), values_of<float>(x));
  ASSERT_EQ(out.value()[1].dtype(), DataType::kBool);
  for (bool m : values_of<bool>(out.value()[1])) EXPECT_TRUE(m);
  auto v7 = NodeModel("Dropout", 7).feed(x).attr_float("ratio", 0.2f).outputs(2).run();
  ASSERT_TRUE(v7.is_ok()) << v7.status().message();
  EXPECT_EQ(v7.value()[1].dtype(), DataType::kFloat);  // mask had the input's dtype before opset 10
  auto training = NodeModel("Dropout", 13).feed(x).none().feed(scalar<bool>(true)).run();
  ASSERT_FALSE(training.is_ok());
  EXPECT_EQ(training.status().code(), ErrorCode::kUnsupported);
  auto zero_ratio = NodeModel("Dropout", 13).feed(x).feed(scalar<float>(0.f)).feed(scalar<bool>(true)).run();
  ASSERT_TRUE(zero_ratio.is_ok()) << zero_ratio.status().message();
  EXPECT_EQ(values_of<float>(zero_ratio.value()[0]), values_of<float>(x));
  auto inference = NodeModel("Dropout", 13).feed(x).none().feed(scalar<bool>(false)).run();
  EXPECT_TRUE(inference.is_ok());
}

}  // namespace
}  // namespace onnx_mini::testing
