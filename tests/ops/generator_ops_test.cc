// ConstantOfShape and Range: values, and data-derived sizes checked first.
#include <gtest/gtest.h>

#include <limits>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(ConstantOfShape, DefaultAndTypedValue) {
  auto zero = NodeModel("ConstantOfShape", 9).feed(ints({2, 3})).run();
  ASSERT_TRUE(zero.is_ok()) << zero.status().message();
  EXPECT_EQ(zero.value()[0].dtype(), DataType::kFloat);
  EXPECT_EQ(values_of<float>(zero.value()[0]), std::vector<float>(6, 0.f));
  auto seven = NodeModel("ConstantOfShape", 9).init(ints({2, 0})).attr_tensor("value", make_tensor<int32_t>({1}, {7})).run();
  ASSERT_TRUE(seven.is_ok());
  EXPECT_EQ(seven.value()[0].shape(), (Shape{2, 0}));
  auto filled = NodeModel("ConstantOfShape", 9).feed(ints({3})).attr_tensor("value", make_tensor<int32_t>({1}, {7})).run();
  ASSERT_TRUE(filled.is_ok());
  EXPECT_EQ(values_of<int32_t>(filled.value()[0]), (std::vector<int32_t>{7, 7, 7}));
}

TEST(ConstantOfShape, NegativeAndHugeShapesAreErrors) {
  auto neg = NodeModel("ConstantOfShape", 9).feed(ints({2, -3})).run();
  ASSERT_FALSE(neg.is_ok());
  EXPECT_NE(neg.status().message().find("-3"), std::string::npos);
  auto huge = NodeModel("ConstantOfShape", 9).feed(ints({int64_t{1} << 32, int64_t{1} << 32})).run();
  ASSERT_FALSE(huge.is_ok());
}

TEST(Range, AgainstReference) {
  auto f = NodeModel("Range", 11).feed(scalar<float>(1)).feed(scalar<float>(2)).feed(scalar<float>(0.25f)).run();
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(values_of<float>(f.value()[0]), (std::vector<float>{1, 1.25f, 1.5f, 1.75f}));
  auto i = NodeModel("Range", 11).feed(scalar<int64_t>(10)).feed(scalar<int64_t>(3)).feed(scalar<int64_t>(-3)).run();
  ASSERT_TRUE(i.is_ok());
  EXPECT_EQ(values_of<int64_t>(i.value()[0]), (std::vector<int64_t>{10, 7, 4}));
  auto none = NodeModel("Range", 11).feed(scalar<int32_t>(3)).feed(scalar<int32_t>(0)).feed(scalar<int32_t>(1)).run();
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none.value()[0].num_elements(), 0);
}

TEST(Range, IntegerRangesSpanningTheTypeAreExact) {
  auto i8 = NodeModel("Range", 11).feed(scalar<int8_t>(-128)).feed(scalar<int8_t>(127)).feed(scalar<int8_t>(1)).run();
  ASSERT_TRUE(i8.is_ok()) << i8.status().message();
  ASSERT_EQ(i8.value()[0].num_elements(), 255);
  for (int64_t i = 0; i < 255; ++i) EXPECT_EQ(i8.value()[0].data<int8_t>()[i], -128 + i);
  const int64_t mn = std::numeric_limits<int64_t>::min(), mx = std::numeric_limits<int64_t>::max();
  const int64_t step = int64_t{1} << 62;
  auto big = NodeModel("Range", 11).feed(scalar<int64_t>(mn)).feed(scalar<int64_t>(mx)).feed(scalar<int64_t>(step)).run();
  ASSERT_TRUE(big.is_ok()) << big.status().message();
  EXPECT_EQ(values_of<int64_t>(big.value()[0]), (std::vector<int64_t>{mn, mn + step, 0, step}));
}

TEST(Range, ZeroDeltaAndHugeCountAreErrors) {
  auto zero = NodeModel("Range", 11).feed(scalar<int64_t>(0)).feed(scalar<int64_t>(5)).feed(scalar<int64_t>(0)).run();
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.status().message().find("'delta'"), std::string::npos);
  const int64_t mn = std::numeric_limits<int64_t>::min(), mx = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(NodeModel("Range", 11).feed(scalar<int64_t>(mn)).feed(scalar<int64_t>(mx)).feed(scalar<int64_t>(1)).run().is_ok());
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(NodeModel("Range", 11).feed(scalar<float>(0)).feed(scalar<float>(inf)).feed(scalar<float>(1)).run().is_ok());
}

}  // namespace
}  // namespace onnx_mini::testing
