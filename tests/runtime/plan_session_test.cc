// The memory plan and the session's handling of inputs.
#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "runtime/plan.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;
using testing::make_tensor;

// A chain of n Relu nodes: x -> r0 -> r1 -> ... -> r{n-1} (output).
ModelBuilder relu_chain(int n) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 3});
  std::string prev = "x";
  for (int i = 0; i < n; ++i) {
    std::string out = "r" + std::to_string(i);
    b.node("Relu", {prev}, {out}, "relu" + std::to_string(i));
    prev = out;
  }
  b.output(prev);
  return b;
}

TEST(PlanTest, ChainReusesTwoBuffersPlusTheOutput) {
  ModelBuilder b = relu_chain(10);
  auto g = graph_from_model(b.model(), "");
  ASSERT_TRUE(g.is_ok());
  auto order = g->topological_order();
  ASSERT_TRUE(order.is_ok());
  ExecutionPlan plan = make_plan(g.value(), order.value());
  // Each intermediate dies as soon as the next node has read it: two alternating
  // slots suffice, plus the output's own slot.
  EXPECT_EQ(plan.num_slots, 3);
}

TEST(PlanTest, ValueReadLaterIsNotOverwritten) {
  // x -> a = relu(x); b = relu(a); c = relu(b); d = a + c  (a lives across b, c)
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {3});
  b.node("Relu", {"x"}, {"a"}, "n1");
  b.node("Relu", {"a"}, {"b"}, "n2");
  b.node("Relu", {"b"}, {"c"}, "n3");
  b.node("Add", {"a", "c"}, {"d"}, "n4");
  b.output("d");
  auto s = testing::make_session(b.model());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = (*s)->run({{"x", make_tensor({3}, {-1, 2, 3})}});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out->at(0).tensor.data<float>()[0], 0);
  EXPECT_EQ(out->at(0).tensor.data<float>()[1], 4);
  EXPECT_EQ(out->at(0).tensor.data<float>()[2], 6);
}

TEST(SessionTest, DynamicBatchRunsAtSeveralSizesAndOutputsSurviveTheNextRun) {
  ModelBuilder b = relu_chain(3);
  auto s = testing::make_session(b.model());
  ASSERT_TRUE(s.is_ok());
  auto first = (*s)->run({{"x", make_tensor({1, 3}, {-1, 1, 2})}});
  ASSERT_TRUE(first.is_ok());
  auto second = (*s)->run({{"x", testing::random_tensor({64, 3}, 1)}});
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second->at(0).tensor.shape(), (Shape{64, 3}));
  // The first result is still intact although the session ran again.
  EXPECT_EQ(first->at(0).tensor.shape(), (Shape{1, 3}));
  EXPECT_EQ(first->at(0).tensor.data<float>()[2], 2);
}

TEST(SessionTest, InputErrorsNameTheInput) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 3});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y");
  auto s = testing::make_session(b.model());
  ASSERT_TRUE(s.is_ok());
  auto missing = (*s)->run({});
  EXPECT_EQ(missing.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(missing.status().message().find("missing input 'x'"), std::string::npos);
  auto unknown = (*s)->run({{"x", make_tensor({1, 3}, {1, 2, 3})}, {"nope", make_tensor({1}, {1})}});
  EXPECT_NE(unknown.status().message().find("unknown input name 'nope'"), std::string::npos);
  auto dtype = (*s)->run({{"x", testing::make_tensor<int64_t>({1, 3}, {1, 2, 3})}});
  EXPECT_NE(dtype.status().message().find("expected float, got int64"), std::string::npos);
  auto rank = (*s)->run({{"x", make_tensor({3}, {1, 2, 3})}});
  EXPECT_NE(rank.status().message().find("expected rank 2"), std::string::npos);
  auto dim = (*s)->run({{"x", make_tensor({1, 2}, {1, 2})}});
  EXPECT_NE(dim.status().message().find("dimension 1 must be 3"), std::string::npos) << dim.status().message();
}

TEST(SessionTest, MemoryLimitIsAClearError) {
  ModelBuilder b = relu_chain(2);
  SessionOptions o;
  o.max_memory_bytes = 1024;
  auto s = testing::make_session(b.model(), o);
  ASSERT_TRUE(s.is_ok());
  auto out = (*s)->run({{"x", testing::random_tensor({1000, 3}, 2)}});
  EXPECT_EQ(out.status().code(), ErrorCode::kResourceLimit);
  EXPECT_NE(out.status().message().find("--max-memory"), std::string::npos);
}

TEST(SessionTest, ZeroSizeBatchGivesEmptyOutputs) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 4});
  b.initializer("w", {3, 4}, std::vector<float>(12, 1.f));
  b.initializer("c", {3}, {1, 2, 3});
  auto& g = b.node("Gemm", {"x", "w", "c"}, {"h"}, "fc");
  testing::set_attr(g, "transB", int64_t{1});
  b.node("Softmax", {"h"}, {"p"}, "sm");
  b.output("p");
  auto s = testing::make_session(b.model());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = (*s)->run({{"x", Tensor::allocate(DataType::kFloat, {0, 4})}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->at(0).tensor.shape(), (Shape{0, 3}));
}

}  // namespace
}  // namespace onnx_mini
