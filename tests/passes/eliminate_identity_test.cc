// EliminateIdentity: Identity (and inference Dropout) removed, names kept.
#include "tests/passes/pass_test_util.h"

namespace onnx_mini::testing {
namespace {

TEST(EliminateIdentity, RemovesInnerIdentity) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3});
  b.node("Relu", {"X"}, {"a"}, {}, "relu");
  b.node("Identity", {"a"}, {"b"}, {}, "copy");
  b.node("Relu", {"b"}, {"Y"}, {}, "relu2");
  b.output("Y");
  Graph g = b.build();
  auto lines = run_pass(g, make_eliminate_identity());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "removed Identity 'copy'");
  EXPECT_EQ(count_ops(g, "Identity"), 0);
  EXPECT_EQ(g.value(g.find_value("a")).consumers.size(), 1u);
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({2, 3}, 4)}});
}

TEST(EliminateIdentity, GraphOutputKeepsItsName) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3});
  b.node("Relu", {"X"}, {"a"}, {}, "relu");
  b.node("Identity", {"a"}, {"Y"}, {}, "copy");
  b.output("Y");
  Graph g = b.build();
  run_pass(g, make_eliminate_identity());
  EXPECT_EQ(count_ops(g, "Identity"), 0);
  ValueId y = g.find_value("Y");
  ASSERT_NE(g.value(y).producer, kNoId);
  EXPECT_EQ(g.node(g.value(y).producer).op_type, "Relu");
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({2, 3}, 4)}});
}

TEST(EliminateIdentity, InputToOutputCopyStays) {
  // Both names are the interface: nothing to remove without renaming one.
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2});
  b.node("Identity", {"X"}, {"Y"}, {}, "copy");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_eliminate_identity()).empty());
  EXPECT_EQ(count_ops(g, "Identity"), 1);
}

TEST(EliminateIdentity, SharedGraphOutputStays) {
  // 'a' is read by another node too: the producer cannot be renamed to 'Y'.
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2});
  b.node("Relu", {"X"}, {"a"}, {}, "relu");
  b.node("Identity", {"a"}, {"Y"}, {}, "copy");
  b.node("Relu", {"a"}, {"Z"}, {}, "relu2");
  b.output("Y").output("Z");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_eliminate_identity()).empty());
}

}  // namespace
}  // namespace onnx_mini::testing
