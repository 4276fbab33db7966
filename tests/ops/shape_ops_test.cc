// Shape ops (ops/shape_ops.cc) through the loader and a session: Flatten and
// Reshape move no value (outputs must equal the input exactly), Reshape's size
// check at run time, Constant and Identity.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(ShapeOps, FlattenAtEveryAxis) {
  Tensor x = random_tensor({2, 3, 4}, 11);
  for (int64_t axis : {0, 1, 2, 3, -1}) {
    auto out = NodeModel("Flatten", 13).feed(x).attr_int("axis", axis).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    int64_t a = axis < 0 ? axis + 3 : axis, outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.dim(d);
    EXPECT_EQ(out.value()[0].shape(), (Shape{outer, 24 / outer})) << "axis " << axis;
    EXPECT_EQ(values_of<float>(out.value()[0]), values_of<float>(x)) << "axis " << axis;
  }
}

TEST(ShapeOps, ReshapeCopiesZeroAndInfersMinusOne) {
  Tensor x = random_tensor({2, 3, 4}, 11);
  auto out = NodeModel("Reshape", 13).feed(x).init(ints({0, -1, 2})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(values_of<float>(out.value()[0]), values_of<float>(x));
}

TEST(ShapeOps, ReshapeToAnotherSizeIsBadInputAtRunTime) {
  // Symbolic input dims and a fed shape: nothing to check at load time.
  auto out = NodeModel("Reshape", 13).input(In::feed_symbolic(random_tensor({2, 3, 4}, 11))).feed(ints({5, 5})).run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput) << out.status().message();
  EXPECT_NE(out.status().message().find("cannot reshape [2, 3, 4]"), std::string::npos) << out.status().message();
}

TEST(ShapeOps, ConstantAndIdentity) {
  auto constant = NodeModel("Constant", 13).attr_tensor("value", make_tensor({2}, {3, 4})).run();
  ASSERT_TRUE(constant.is_ok()) << constant.status().message();
  EXPECT_EQ(values_of<float>(constant.value()[0]), (std::vector<float>{3, 4}));
  Tensor x = random_tensor({2, 3}, 12);
  auto identity = NodeModel("Identity", 13).feed(x).run();
  ASSERT_TRUE(identity.is_ok()) << identity.status().message();
  EXPECT_EQ(values_of<float>(identity.value()[0]), values_of<float>(x));
}

}  // namespace
}  // namespace onnx_mini::testing
