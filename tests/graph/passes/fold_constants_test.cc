// FoldConstants: all-constant nodes become initializers, under a size cap.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// Y = X + relu(c1 + c2) where c2 comes from a Constant node.
GraphBuilder constant_chain(int64_t n) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {n}).initializer("c1", random_tensor({n}, 1));
  Attribute value;
  value.kind = Attribute::Kind::kTensor;
  value.t = random_tensor({n}, 2);
  b.node("Constant", {}, {"c2"}, {{"value", value}}, "const");
  b.node("Add", {"c1", "c2"}, {"s"}, {}, "sum");
  b.node("Relu", {"s"}, {"r"}, {}, "relu");
  b.node("Add", {"X", "r"}, {"Y"}, {}, "use");
  b.output("Y");
  return b;
}

TEST(FoldConstants, FoldsAConstantChain) {
  GraphBuilder b = constant_chain(8);
  Graph g = b.build();
  auto lines = run_pass(g, make_fold_constants());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "folded Constant 'const' into constant 'c2' float[8]");
  EXPECT_EQ(g.num_live_nodes(), 1u);  // only the Add reading X
  ASSERT_TRUE(g.is_constant(g.find_value("r")));
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({8}, 3)}});
}

TEST(FoldConstants, SizeCapLeavesLargeOutputs) {
  GraphBuilder b = constant_chain(100);
  Graph g = b.build();
  // 100 floats = 400 bytes, above a 256-byte cap: nothing folds (Constant's output too).
  auto lines = run_pass(g, make_fold_constants(256));
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(g.num_live_nodes(), 4u);
}

TEST(FoldConstants, GraphOutputIsNotFolded) {
  GraphBuilder b;
  b.initializer("c1", random_tensor({4}, 1));
  b.node("Relu", {"c1"}, {"Y"}, {}, "relu");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fold_constants()).empty());
}

TEST(FoldConstants, OverridableInitializerIsNotConstant) {
  // An initializer that is also a graph input can be fed by the caller.
  GraphBuilder b;
  b.input("c1", DataType::kFloat, {4}).initializer("c1", random_tensor({4}, 1));
  b.input("X", DataType::kFloat, {4});
  b.node("Relu", {"c1"}, {"r"}, {}, "relu");
  b.node("Add", {"X", "r"}, {"Y"}, {}, "add");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fold_constants()).empty());
}

TEST(FoldConstants, ReshapeShapeBecomesKnown) {
  // Reshape's target shape computed from constants: after folding, inference knows Y's shape.
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 6});
  b.initializer("s1", make_tensor<int64_t>({2}, {3, 2}));
  b.initializer("s2", make_tensor<int64_t>({2}, {0, 2}));
  b.node("Add", {"s1", "s2"}, {"shape"}, {}, "shape_sum");
  b.node("Reshape", {"X", "shape"}, {"Y"}, {}, "reshape");
  b.output("Y");
  Graph g = b.build();
  run_pass(g, make_fold_constants());
  EXPECT_EQ(count_ops(g, "Add"), 0);
  EXPECT_EQ(g.value(g.find_value("Y")).info.to_string(), "float[3, 4]");
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({2, 6}, 3)}});
}

// The PyTorch flatten pattern: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
GraphBuilder shape_chain(const std::vector<Dim>& x_dims) {
  GraphBuilder b(13);
  b.input_symbolic("X", x_dims);
  Tensor zero = Tensor::allocate(DataType::kInt64, {});
  b.initializer("zero", zero).initializer("axes0", make_tensor<int64_t>({1}, {0})).initializer("minus1", make_tensor<int64_t>({1}, {-1}));
  b.node("Shape", {"X"}, {"shape"}, {}, "shape");
  b.node("Gather", {"shape", "zero"}, {"batch"}, {{"axis", int_attr(0)}}, "gather");
  b.node("Unsqueeze", {"batch", "axes0"}, {"batch1"}, {}, "unsqueeze");
  b.node("Concat", {"batch1", "minus1"}, {"target"}, {{"axis", int_attr(0)}}, "concat");
  b.node("Reshape", {"X", "target"}, {"Y"}, {}, "reshape");
  b.output("Y");
  return b;
}

TEST(FoldConstants, ShapeChainOnKnownShapeFolds) {
  GraphBuilder b = shape_chain({Dim{2, ""}, Dim{3, ""}, Dim{4, ""}});
  Graph g = b.build();
  auto lines = run_pass(g, make_fold_constants());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "folded Shape 'shape' of known shape into constant 'shape' int64[3]");
  EXPECT_EQ(g.num_live_nodes(), 1u);  // the Reshape
  EXPECT_EQ(g.value(g.find_value("Y")).info.to_string(), "float[2, 12]");
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({2, 3, 4}, 3)}});
}

TEST(FoldConstants, ShapeWithSymbolicDimStays) {
  GraphBuilder b = shape_chain({Dim{-1, "batch"}, Dim{3, ""}, Dim{4, ""}});
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fold_constants()).empty());
  EXPECT_EQ(g.num_live_nodes(), 5u);
  // The target is computed at run time, but its length fixes Y's rank.
  EXPECT_EQ(g.value(g.find_value("Y")).info.to_string(), "float[?, ?]");
}

TEST(FoldConstants, TransposeOfWeightFolds) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {3, 4}).initializer("W", random_tensor({5, 4}, 1));
  b.node("Transpose", {"W"}, {"WT"}, {{"perm", [] {
                                         Attribute a;
                                         a.kind = Attribute::Kind::kInts;
                                         a.ints = {1, 0};
                                         return a;
                                       }()}},
         "transpose");
  b.node("MatMul", {"X", "WT"}, {"Y"}, {}, "matmul");
  b.output("Y");
  Graph g = b.build();
  ASSERT_EQ(run_pass(g, make_fold_constants()).size(), 1u);
  EXPECT_EQ(count_ops(g, "Transpose"), 0);
  EXPECT_EQ(g.value(g.find_value("WT")).initializer->shape(), (Shape{4, 5}));
  expect_same_with_and_without_passes(b.graph(), {{"X", random_tensor({3, 4}, 3)}});
}

}  // namespace
}  // namespace onnx_mini::testing
