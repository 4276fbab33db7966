// LowerLinearToFusedGemm: Gemm / MatMul against a constant 2-D float weight ->
// FusedGemm without activation (the packed kernel's op), outputs unchanged; and
// the cases that must stay as they are.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

TEST(LowerLinearToFusedGemm, GemmWithConstantWeightKeepsAttributesAndOutput) {
  auto build = [] {
    GraphBuilder b;
    b.input("X", DataType::kFloat, {3, 5}).initializer("W", random_tensor({6, 5}, 1));
    b.initializer("C", random_tensor({3, 6}, 2));
    b.node("Gemm", {"X", "W", "C"}, {"Y"},
           {{"transB", int_attr(1)}, {"alpha", float_attr(0.5f)}, {"beta", float_attr(-2.0f)}}, "out");
    b.output("Y");
    return b.build();
  };
  Graph g = build();
  auto lines = run_pass(g, make_lower_linear_to_fused_gemm());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "lowered Gemm 'out' to FusedGemm (constant weight)");
  EXPECT_EQ(count_ops(g, "Gemm"), 0);
  ASSERT_EQ(count_ops(g, "FusedGemm"), 1);
  EXPECT_EQ(g.value(g.find_value("Y")).info.to_string(), "float[3, 6]");
  expect_same_with_and_without_passes(build(), {{"X", random_tensor({3, 5}, 9)}});
}

TEST(LowerLinearToFusedGemm, BiasFreeMatMulThenReluBecomesOneFusedGemm) {
  // nn.Linear(bias=False) + ReLU as exported: MatMul against a [K, N] constant.
  for (const std::vector<int64_t>& a_shape : {std::vector<int64_t>{4, 5}, std::vector<int64_t>{2, 3, 5}}) {
    auto build = [&] {
      GraphBuilder b;
      b.input("X", DataType::kFloat, a_shape).initializer("W", random_tensor({5, 7}, 1));
      b.node("MatMul", {"X", "W"}, {"h"}, {}, "mm");
      b.node("Relu", {"h"}, {"Y"}, {}, "relu");
      b.output("Y");
      return b.build();
    };
    Graph g = build();
    PassContext ctx;
    ctx.verify_each = true;
    ASSERT_TRUE(optimize_graph(g, ctx).is_ok());
    EXPECT_EQ(g.num_live_nodes(), 1u);
    EXPECT_EQ(count_ops(g, "FusedGemm"), 1);
    expect_same_with_and_without_passes(build(), {{"X", random_tensor(a_shape, 3)}});
  }
}

TEST(LowerLinearToFusedGemm, LeavesFedOverridableOneDimensionalAndNonFloatAlone) {
  {  // weight fed at run time
    GraphBuilder b;
    b.input("X", DataType::kFloat, {3, 5}).input("W", DataType::kFloat, {5, 6});
    b.node("MatMul", {"X", "W"}, {"Y"}, {}, "mm");
    b.output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_lower_linear_to_fused_gemm()).empty());
  }
  {  // an initializer the caller may override (also a graph input): not a constant
    GraphBuilder b;
    b.input("X", DataType::kFloat, {3, 5}).input("W", DataType::kFloat, {5, 6});
    b.initializer("W", random_tensor({5, 6}, 1));
    b.node("Gemm", {"X", "W"}, {"Y"}, {}, "g");
    b.output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_lower_linear_to_fused_gemm()).empty());
  }
  {  // 1-D A: [K] x [K, N] -> [N] has no FusedGemm form
    GraphBuilder b;
    b.input("X", DataType::kFloat, {5}).initializer("W", random_tensor({5, 6}, 1));
    b.node("MatMul", {"X", "W"}, {"Y"}, {}, "mm");
    b.output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_lower_linear_to_fused_gemm()).empty());
  }
  {  // double: FusedGemm is float only
    GraphBuilder b;
    Tensor w = Tensor::allocate(DataType::kDouble, {5, 6});
    b.input("X", DataType::kDouble, {3, 5}).initializer("W", w);
    b.node("MatMul", {"X", "W"}, {"Y"}, {}, "mm");
    b.output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_lower_linear_to_fused_gemm()).empty());
  }
}

}  // namespace
}  // namespace onnx_mini::testing
