// EliminateIdentity: Identity (and inference Dropout) removed, names kept.
#include "tests/testutil/graph_builder.h"

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

Tensor bool_scalar(bool v) {
  Tensor t = Tensor::allocate(DataType::kBool, {});
  t.data<bool>()[0] = v;
  return t;
}

// X -> Relu -> Dropout(opset 13, training_mode as given) -> Relu -> Y
GraphBuilder with_dropout(int training_mode /* -1 absent, 0 false, 1 true */, bool mask_used = false) {
  GraphBuilder b(13);
  b.input("X", DataType::kFloat, {4, 5});
  b.node("Relu", {"X"}, {"a"}, {}, "relu");
  std::vector<std::string> ins = {"a"};
  if (training_mode >= 0) {
    b.initializer("ratio", [] {
      Tensor t = Tensor::allocate(DataType::kFloat, {});
      t.data<float>()[0] = 0.5f;
      return t;
    }());
    b.initializer("training", bool_scalar(training_mode == 1));
    ins = {"a", "ratio", "training"};
  }
  b.node("Dropout", ins, {"d", mask_used ? "mask" : ""}, {}, "drop");
  b.node("Relu", {"d"}, {"Y"}, {}, "relu2");
  b.output("Y");
  if (mask_used) b.output("mask");
  return b;
}

TEST(EliminateIdentity, RemovesInferenceDropout) {
  for (int mode : {-1, 0}) {
    GraphBuilder b = with_dropout(mode);
    Graph g = b.build();
    auto lines = run_pass(g, make_eliminate_identity());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "removed inference Dropout 'drop'");
    EXPECT_EQ(count_ops(g, "Dropout"), 0);
    expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({4, 5}, 4)}});
  }
}

TEST(EliminateIdentity, TrainingDropoutStays) {
  Graph g = with_dropout(1).build();
  EXPECT_TRUE(run_pass(g, make_eliminate_identity()).empty());
}

TEST(EliminateIdentity, DropoutWithUsedMaskStays) {
  Graph g = with_dropout(-1, true).build();
  EXPECT_TRUE(run_pass(g, make_eliminate_identity()).empty());
}

}  // namespace
}  // namespace onnx_mini::testing
