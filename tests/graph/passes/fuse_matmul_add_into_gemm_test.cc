// FuseMatMulAddIntoGemm: MatMul + 1-D bias Add -> Gemm (2-D A) or FusedGemm (N-D A).
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

Graph matmul_add(const std::vector<int64_t>& a_shape, const std::vector<int64_t>& bias_shape, bool bias_first = false) {
  const int64_t k = a_shape.back();
  GraphBuilder b;
  b.input("X", DataType::kFloat, a_shape)
      .initializer("W", random_tensor({k, 6}, 1))
      .initializer("bias", random_tensor(bias_shape, 2));
  b.node("MatMul", {"X", "W"}, {"h"}, {}, "linear/matmul");
  if (bias_first) {
    b.node("Add", {"bias", "h"}, {"Y"}, {}, "linear/add");
  } else {
    b.node("Add", {"h", "bias"}, {"Y"}, {}, "linear/add");
  }
  b.output("Y");
  return b.build();
}

TEST(FuseMatMulAddIntoGemm, TwoDimensionalBecomesGemm) {
  for (bool bias_first : {false, true}) {
    Graph g = matmul_add({3, 5}, {6}, bias_first);
    auto lines = run_pass(g, make_fuse_matmul_add_into_gemm());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "fused MatMul 'linear/matmul' and Add 'linear/add' into Gemm 'linear/matmul'");
    EXPECT_EQ(count_ops(g, "MatMul"), 0);
    EXPECT_EQ(count_ops(g, "Add"), 0);
    EXPECT_EQ(count_ops(g, "Gemm"), 1);
    expect_same_with_and_without_passes(matmul_add({3, 5}, {6}, bias_first), {{"X", random_tensor({3, 5}, 9)}});
  }
}

TEST(FuseMatMulAddIntoGemm, BatchedInputBecomesFusedGemm) {
  Graph g = matmul_add({2, 3, 5}, {6});
  run_pass(g, make_fuse_matmul_add_into_gemm());
  EXPECT_EQ(count_ops(g, "MatMul"), 0);
  EXPECT_EQ(count_ops(g, "FusedGemm"), 1);
  EXPECT_EQ(g.value(g.find_value("Y")).info.to_string(), "float[2, 3, 6]");
  expect_same_with_and_without_passes(matmul_add({2, 3, 5}, {6}), {{"X", random_tensor({2, 3, 5}, 9)}});
}

TEST(FuseMatMulAddIntoGemm, ThenActivationFusesToo) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {4, 5}).initializer("W", random_tensor({5, 6}, 1));
  b.initializer("bias", random_tensor({6}, 2));
  b.node("MatMul", {"X", "W"}, {"h"}, {}, "mm");
  b.node("Add", {"h", "bias"}, {"z"}, {}, "add");
  b.node("Relu", {"z"}, {"Y"}, {}, "relu");
  b.output("Y");
  Graph g = b.build();
  Graph fused = g;
  PassContext ctx;
  ctx.verify_each = true;
  ASSERT_TRUE(optimize_graph(fused, ctx).is_ok());
  EXPECT_EQ(fused.num_live_nodes(), 1u);
  EXPECT_EQ(count_ops(fused, "FusedGemm"), 1);
  expect_same_with_and_without_passes(g, {{"X", random_tensor({4, 5}, 3)}});
}

TEST(FuseMatMulAddIntoGemm, FullMatrixBiasDoesNotFuse) {
  Graph g = matmul_add({3, 5}, {3, 6});  // not a 1-D bias
  EXPECT_TRUE(run_pass(g, make_fuse_matmul_add_into_gemm()).empty());
  EXPECT_EQ(count_ops(g, "MatMul"), 1);
}

TEST(FuseMatMulAddIntoGemm, BroadcastScalarBiasDoesNotFuse) {
  Graph g = matmul_add({3, 5}, {1});  // size 1, not N
  EXPECT_TRUE(run_pass(g, make_fuse_matmul_add_into_gemm()).empty());
}

TEST(FuseMatMulAddIntoGemm, SecondConsumerDoesNotFuse) {
  Graph g = matmul_add({3, 5}, {6});
  GraphBuilder more;  // add a second reader of h by hand
  Node relu;
  relu.op_type = "Relu";
  relu.name = "other";
  relu.opset = 17;
  relu.def = default_registry().find("Relu", "", 17);
  relu.inputs = {g.find_value("h")};
  relu.outputs = {g.add_value("h2")};
  g.add_node(std::move(relu));
  g.value(g.find_value("h2")).is_graph_output = true;
  g.outputs().push_back(g.find_value("h2"));
  ASSERT_TRUE(infer_shapes(g).is_ok());
  EXPECT_TRUE(run_pass(g, make_fuse_matmul_add_into_gemm()).empty());
}

TEST(FuseMatMulAddIntoGemm, MatMulOutputIsGraphOutputDoesNotFuse) {
  Graph g = matmul_add({3, 5}, {6});
  g.value(g.find_value("h")).is_graph_output = true;
  g.outputs().push_back(g.find_value("h"));
  EXPECT_TRUE(run_pass(g, make_fuse_matmul_add_into_gemm()).empty());
}

TEST(FuseMatMulAddIntoGemm, VectorInputDoesNotFuse) {
  Graph g = matmul_add({5}, {6});  // 1-D A: MatMul drops the dim, Gemm cannot
  EXPECT_TRUE(run_pass(g, make_fuse_matmul_add_into_gemm()).empty());
}

}  // namespace
}  // namespace onnx_mini::testing
