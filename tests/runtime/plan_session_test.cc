// The memory plan and the session's handling of inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "graph/onnx_loader.h"
#include "runtime/execution_frame.h"
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

// x [N, 4, 4] -> a = Relu(x), b = Sigmoid(x) -> y = Concat(a, b, axis) -> z = Neg(y).
ModelBuilder concat_of_two(int64_t axis) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 4, 4});
  b.node("Relu", {"x"}, {"a"}, "relu");
  b.node("Sigmoid", {"x"}, {"b"}, "sigmoid");
  testing::set_attr(b.node("Concat", {"a", "b"}, {"y"}, "concat"), "axis", axis);
  b.node("Neg", {"y"}, {"z"}, "neg");
  b.output("z");
  return b;
}

// The graph of `model` (loaded from a copy: the loader moves tensor bytes out)
// and its memory plan.
struct Planned {
  Graph graph;
  ExecutionPlan plan;
  const ConcatPlacement& placement(const std::string& value) const {
    return plan.placement[static_cast<size_t>(graph.find_value(value))];
  }
};
Planned planned(onnx::ModelProto model) {
  auto g = graph_from_model(model, "");
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  auto order = g->topological_order();
  EXPECT_TRUE(order.is_ok());
  Planned p{std::move(g.value()), {}};
  p.plan = make_plan(p.graph, order.value());
  return p;
}
ConcatPlacement placement_of(const onnx::ModelProto& model, const std::string& value) {
  return planned(model).placement(value);
}

TEST(PlanTest, ConcatInputsArePlacedInItsOutput) {
  const Planned p = planned(concat_of_two(1).model());
  const ValueId y = p.graph.find_value("y");
  const ConcatPlacement& pa = p.placement("a");
  const ConcatPlacement& pb = p.placement("b");
  EXPECT_EQ(pa.whole, y);
  EXPECT_EQ(pb.whole, y);
  EXPECT_EQ(pa.rank, 3);
  EXPECT_EQ(pa.axis, 1);
  EXPECT_EQ(pa.axis_begin, 0);
  EXPECT_EQ(pb.axis_begin, 4);
  EXPECT_EQ(pb.axis_size, 4);
  EXPECT_EQ(pb.axis_total, 8);
  // The placed inputs hold no slot; the output holds one from the first of them.
  EXPECT_EQ(p.plan.value_slot[static_cast<size_t>(p.graph.find_value("a"))], -1);
  EXPECT_EQ(p.plan.value_slot[static_cast<size_t>(p.graph.find_value("b"))], -1);
  EXPECT_GE(p.plan.value_slot[static_cast<size_t>(y)], 0);
  // Negative axes are normalised.
  EXPECT_EQ(placement_of(concat_of_two(-1).model(), "b").axis, 2);
}

TEST(PlanTest, ConcatInputsStayOutOfItsOutputWhenAnythingElseCouldSeeThem) {
  {  // read by another node too
    ModelBuilder b = concat_of_two(1);
    b.node("Abs", {"a"}, {"extra"}, "abs");
    b.output("extra");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
    EXPECT_EQ(placement_of(b.model(), "b").whole, kNoId);  // all inputs or none
  }
  {  // a graph output
    ModelBuilder b = concat_of_two(1);
    b.output("b");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
  }
  {  // the Concat's output is a graph output
    ModelBuilder b = concat_of_two(1);
    b.output("y");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
  }
  {  // the same input twice
    ModelBuilder b(13);
    b.input("x", DataType::kFloat, {1, 4});
    b.node("Relu", {"x"}, {"a"}, "relu");
    testing::set_attr(b.node("Concat", {"a", "a"}, {"y"}, "twice"), "axis", int64_t{1});
    b.node("Neg", {"y"}, {"z"}, "neg");
    b.output("z");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
  }
  {  // a graph input beside a placeable value: neither is placed
    ModelBuilder b(13);
    b.input("x", DataType::kFloat, {1, 4});
    b.node("Relu", {"x"}, {"a"}, "relu");
    testing::set_attr(b.node("Concat", {"x", "a"}, {"y"}, "with_input"), "axis", int64_t{1});
    b.node("Neg", {"y"}, {"z"}, "neg");
    b.output("z");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
  }
  {  // the extent along the axis unknown at load
    ModelBuilder b(13);
    b.input("x", DataType::kFloat, {2, -1});
    b.node("Relu", {"x"}, {"a"}, "relu");
    b.node("Sigmoid", {"x"}, {"s"}, "sigmoid");
    testing::set_attr(b.node("Concat", {"a", "s"}, {"y"}, "concat"), "axis", int64_t{1});
    b.node("Neg", {"y"}, {"z"}, "neg");
    b.output("z");
    EXPECT_EQ(placement_of(b.model(), "a").whole, kNoId);
  }
  {  // a Concat's output is not placed in another Concat: one level only
    ModelBuilder b(13);
    b.input("x", DataType::kFloat, {1, 4});
    b.node("Relu", {"x"}, {"a"}, "relu");
    b.node("Sigmoid", {"x"}, {"s"}, "sigmoid");
    b.node("Abs", {"x"}, {"c"}, "abs");
    testing::set_attr(b.node("Concat", {"a", "s"}, {"y"}, "inner"), "axis", int64_t{1});
    testing::set_attr(b.node("Concat", {"y", "c"}, {"w"}, "outer"), "axis", int64_t{1});
    b.node("Neg", {"w"}, {"z"}, "neg");
    b.output("z");
    const Planned p = planned(b.model());
    EXPECT_EQ(p.placement("a").whole, p.graph.find_value("y"));
    EXPECT_EQ(p.placement("y").whole, kNoId);
    EXPECT_EQ(p.placement("c").whole, kNoId);
    auto session = testing::make_session(b.model());
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    auto out = (*session)->run({{"x", make_tensor({1, 4}, {-1, 0, 2, -3})}});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    const std::vector<float> expected = {-0.f, -0.f, -2, -0.f, -1 / (1 + std::exp(1.f)), -0.5f, -1 / (1 + std::exp(-2.f)),
                                         -1 / (1 + std::exp(3.f)), -1, -0.f, -2, -3};
    ASSERT_EQ(out->at(0).tensor.num_elements(), 12);
    for (size_t i = 0; i < expected.size(); ++i) EXPECT_FLOAT_EQ(out->at(0).tensor.data<float>()[i], expected[i]) << i;
  }
}

// Records where each node's outputs were written.
class OutputAddresses : public RunObserver {
 public:
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double) override {
    if (!outputs.empty() && outputs[0]) at[node.name] = static_cast<const float*>(outputs[0]->raw_data());
  }
  std::map<std::string, const float*> at;
};

// What concat_of_two(axis) computes from x [N, 4, 4], by the definition:
// Relu(x) and Sigmoid(x) side by side along `axis`, negated.
std::vector<float> expected_concat_of_two(const Tensor& x, int64_t axis) {
  const int64_t n = x.dim(0), rows = axis == 1 ? 8 : 4, cols = axis == 1 ? 4 : 8;
  const float* in = x.data<float>();
  std::vector<float> out(static_cast<size_t>(n * rows * cols));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < rows; ++j) {
      for (int64_t k = 0; k < cols; ++k) {
        const int64_t part = axis == 1 ? j / 4 : k / 4;
        const int64_t r = axis == 1 ? j % 4 : j, c = axis == 1 ? k : k % 4;
        const float v = in[(i * 4 + r) * 4 + c];
        const float f = part == 0 ? (v < 0 ? 0.f : v) : 1.f / (1.f + std::exp(-v));
        out[static_cast<size_t>((i * rows + j) * cols + k)] = -f;
      }
    }
  }
  return out;
}

TEST(SessionTest, PlacedConcatInputsAreWrittenInPlaceForOneImageAndCopiedOtherwise) {
  for (int64_t axis : {int64_t{1}, int64_t{2}}) {
    ModelBuilder b = concat_of_two(axis);
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    // One image (in the Concat's slot), one image again (in its place in the
    // frame's block), several images (the inputs get buffers of their own and
    // the Concat copies), one image again (in place in a block that has grown).
    for (int64_t n : {int64_t{1}, int64_t{1}, int64_t{3}, int64_t{1}}) {
      const Tensor x = testing::random_tensor({n, 4, 4}, static_cast<uint64_t>(7 + n + axis), -2.f, 2.f);
      OutputAddresses where;
      std::vector<Tensor> outputs;
      ASSERT_TRUE((*s)->run({{"x", x}}, outputs, &where).is_ok());
      const std::vector<float> expected = expected_concat_of_two(x, axis);
      ASSERT_EQ(outputs.at(0).num_elements(), static_cast<int64_t>(expected.size()));
      for (size_t i = 0; i < expected.size(); ++i) {
        ASSERT_FLOAT_EQ(outputs[0].data<float>()[i], expected[i]) << "axis " << axis << " n " << n << " at " << i;
      }
      // In place: one image along axis 1, where b starts 16 floats (64 bytes)
      // into y. Along axis 2 b would start 4 floats in: not a whole cache line.
      const bool in_place = n == 1 && axis == 1;
      EXPECT_EQ(where.at["relu"] == where.at["concat"], in_place) << "axis " << axis << " n " << n;
      EXPECT_EQ(where.at["sigmoid"] == where.at["concat"] + 16, in_place) << "axis " << axis << " n " << n;
    }
  }
}

TEST(SessionTest, ExplainNamesTheConcatsWrittenInPlace) {
  std::vector<std::string> lines;
  SessionOptions o;
  o.explain = [&](const std::string& line) { lines.push_back(line); };
  ASSERT_TRUE(testing::make_session(concat_of_two(1).model(), o).is_ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "Concat 'concat' in place: its inputs are written into its output (memory plan, runs of one image)");
  lines.clear();
  ModelBuilder seen_elsewhere = concat_of_two(1);
  seen_elsewhere.output("a");
  ASSERT_TRUE(testing::make_session(seen_elsewhere.model(), o).is_ok());
  EXPECT_TRUE(lines.empty());
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
