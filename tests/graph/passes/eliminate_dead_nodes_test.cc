// EliminateDeadNodes: a chain nobody reads disappears; outputs stay.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

TEST(EliminateDeadNodes, RemovesUnusedChain) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3});
  b.node("Relu", {"X"}, {"Y"}, {}, "used");
  b.node("Relu", {"X"}, {"d1"}, {}, "dead1");
  b.node("Add", {"d1", "X"}, {"d2"}, {}, "dead2");
  b.output("Y");
  Graph g = b.build();
  auto lines = run_pass(g, make_eliminate_dead_nodes());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "removed unused Add 'dead2'");
  EXPECT_EQ(lines[1], "removed unused Relu 'dead1'");
  EXPECT_EQ(g.num_live_nodes(), 1u);
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({2, 3}, 4)}});
}

TEST(EliminateDeadNodes, KeepsGraphOutputsWithoutConsumers) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2});
  b.node("Relu", {"X"}, {"Y"}, {}, "r");
  b.node("Relu", {"Y"}, {"Z"}, {}, "r2");
  b.output("Y").output("Z");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_eliminate_dead_nodes()).empty());
  EXPECT_EQ(g.num_live_nodes(), 2u);
}

}  // namespace
}  // namespace onnx_mini::testing
