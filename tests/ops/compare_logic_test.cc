// Comparisons, boolean logic and Where, with broadcasting.
#include <gtest/gtest.h>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(CompareLogic, ComparisonsBroadcastAgainstReference) {
  Tensor a = random_tensor({3, 4}, 21, -3.f, 3.f), b = random_tensor({4}, 22, -3.f, 3.f);
  b.data<float>()[1] = a.data<float>()[1];  // one exact tie
  struct C { const char* op; int opset; bool (*f)(float, float); };
  for (const C& c : {C{"Equal", 13, [](float x, float y) { return x == y; }}, C{"Less", 13, [](float x, float y) { return x < y; }},
                     C{"Greater", 13, [](float x, float y) { return x > y; }},
                     C{"LessOrEqual", 16, [](float x, float y) { return x <= y; }},
                     C{"GreaterOrEqual", 16, [](float x, float y) { return x >= y; }}}) {
    auto out = NodeModel(c.op, c.opset).feed(a).feed(b).run();
    ASSERT_TRUE(out.is_ok()) << c.op << ": " << out.status().message();
    const Tensor& y = out.value()[0];
    ASSERT_EQ(y.dtype(), DataType::kBool);
    ASSERT_EQ(y.shape(), (Shape{3, 4}));
    for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(y.data<bool>()[i], c.f(a.data<float>()[i], b.data<float>()[i % 4])) << c.op;
  }
}

TEST(CompareLogic, LessOrEqualNeedsOpset12) {
  auto out = NodeModel("LessOrEqual", 11).feed(make_tensor<float>({1}, {0})).feed(make_tensor<float>({1}, {0})).run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kUnsupported);
}

TEST(CompareLogic, BooleanOps) {
  Tensor a = make_tensor<bool>({2, 2}, {true, true, false, false});
  Tensor b = make_tensor<bool>({2}, {true, false});
  auto land = NodeModel("And", 7).feed(a).feed(b).run();
  auto lor = NodeModel("Or", 7).feed(a).feed(b).run();
  auto lxor = NodeModel("Xor", 7).feed(a).feed(b).run();
  auto lnot = NodeModel("Not", 1).feed(a).run();
  ASSERT_TRUE(land.is_ok() && lor.is_ok() && lxor.is_ok() && lnot.is_ok());
  EXPECT_EQ(values_of<bool>(land.value()[0]), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values_of<bool>(lor.value()[0]), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(values_of<bool>(lxor.value()[0]), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(values_of<bool>(lnot.value()[0]), (std::vector<bool>{false, false, true, true}));
  EXPECT_FALSE(NodeModel("And", 7).feed(make_tensor<float>({1}, {1})).feed(make_tensor<float>({1}, {1})).run().is_ok());
}

TEST(CompareLogic, WhereThreeWayBroadcast) {
  Tensor c = make_tensor<bool>({2, 1}, {true, false});
  Tensor x = make_tensor<int64_t>({3}, {1, 2, 3});
  Tensor y = make_tensor<int64_t>({}, {-1});
  auto out = NodeModel("Where", 16).feed(c).feed(x).feed(y).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
  auto empty = NodeModel("Where", 16).feed(Tensor::allocate(DataType::kBool, {0, 3})).feed(x).feed(y).run();
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty.value()[0].shape(), (Shape{0, 3}));
}

}  // namespace
}  // namespace onnx_mini::testing
