// FuseGemmActivation: Gemm -> activation becomes FusedGemm; the negative cases
// stay as they are.
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// X[M,K] -> Gemm(W, b) -> Relu -> Y, W as [N,K] with transB (the nn.Linear export).
Graph linear_relu(int64_t m, int64_t k, int64_t n, const std::string& act = "Relu",
                  std::map<std::string, Attribute> act_attrs = {}) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {m, k})
      .initializer("W", random_tensor({n, k}, 1))
      .initializer("B", random_tensor({n}, 2));
  b.node("Gemm", {"X", "W", "B"}, {"h"}, {{"transB", int_attr(1)}}, "fc1");
  b.node(act, {"h"}, {"Y"}, std::move(act_attrs), "fc1/act");
  b.output("Y");
  return b.build();
}

TEST(FuseGemmActivation, FusesGemmRelu) {
  Graph g = linear_relu(4, 6, 5);
  auto lines = run_pass(g, make_fuse_gemm_activation());
  EXPECT_EQ(count_ops(g, "Gemm"), 0);
  EXPECT_EQ(count_ops(g, "Relu"), 0);
  ASSERT_EQ(count_ops(g, "FusedGemm"), 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "fused Relu 'fc1/act' into Gemm 'fc1'");
  // The fused node keeps the Gemm's name and writes the activation's output name.
  ValueId y = g.find_value("Y");
  const Node& fused = g.node(g.value(y).producer);
  EXPECT_EQ(fused.name, "fc1");
  EXPECT_EQ(fused.domain, kOnnxMiniDomain);
  EXPECT_EQ(fused.attrs.find("activation")->s, "Relu");
}

TEST(FuseGemmActivation, SameOutputsOnAndOff) {
  for (int64_t m : {1, 3, 64}) {
    Graph g = linear_relu(m, 33, 17);
    expect_same_with_and_without_passes(g, {{"X", random_tensor({m, 33}, 7)}});
  }
}

TEST(FuseGemmActivation, SecondConsumerDoesNotFuse) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3}).initializer("W", random_tensor({3, 4}, 1));
  b.node("Gemm", {"X", "W"}, {"h"}, {}, "fc1");
  b.node("Relu", {"h"}, {"Y"}, {}, "relu");
  b.node("Add", {"h", "Y"}, {"Z"}, {}, "add");  // h read twice
  b.output("Z");
  Graph g = b.build();
  auto lines = run_pass(g, make_fuse_gemm_activation());
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(count_ops(g, "Gemm"), 1);
  EXPECT_EQ(count_ops(g, "Relu"), 1);
}

TEST(FuseGemmActivation, IntermediateGraphOutputDoesNotFuse) {
  GraphBuilder b;
  b.input("X", DataType::kFloat, {2, 3}).initializer("W", random_tensor({3, 4}, 1));
  b.node("Gemm", {"X", "W"}, {"h"}, {}, "fc1");
  b.node("Relu", {"h"}, {"Y"}, {}, "relu");
  b.output("h").output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_gemm_activation()).empty());
  EXPECT_EQ(count_ops(g, "Gemm"), 1);
}

TEST(FuseGemmActivation, UnsupportedGemmAttributeDoesNotFuse) {
  Graph g = linear_relu(2, 3, 4);
  ValueId h = g.find_value("h");
  g.node(g.value(h).producer).attrs.set("broadcast", int_attr(1));  // opset < 7 Gemm attribute
  EXPECT_TRUE(run_pass(g, make_fuse_gemm_activation()).empty());
  EXPECT_EQ(count_ops(g, "Relu"), 1);
}

TEST(FuseGemmActivation, OlderActivationDefinitionDoesNotFuse) {
  // Relu before opset 6 had `consumed_inputs`; a definition older than the one
  // the epilogue implements must not be fused.
  Graph g = linear_relu(2, 3, 4);
  static const OpDef old_relu{"Relu", kOnnxDomain, 1, 1, 1, 1, 1, {"consumed_inputs"}, nullptr, nullptr};
  g.node(g.value(g.find_value("Y")).producer).def = &old_relu;
  EXPECT_TRUE(run_pass(g, make_fuse_gemm_activation()).empty());
}

TEST(FuseGemmActivation, NonFloatDoesNotFuse) {
  GraphBuilder b;
  b.input("X", DataType::kDouble, {2, 3});
  b.input("W", DataType::kDouble, {3, 4});
  b.node("Gemm", {"X", "W"}, {"h"}, {}, "fc1");
  b.node("Relu", {"h"}, {"Y"}, {}, "relu");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_gemm_activation()).empty());
}

TEST(FuseGemmActivation, UnknownActivationParameterDoesNotFuse) {
  Graph g = linear_relu(2, 3, 4, "Relu", {{"alpha", float_attr(0.5f)}});
  EXPECT_TRUE(run_pass(g, make_fuse_gemm_activation()).empty());
}

}  // namespace
}  // namespace onnx_mini::testing

namespace onnx_mini::testing {
namespace {

struct ActivationCase {
  const char* op;
  std::map<std::string, Attribute> attrs;
};

TEST(FuseGemmActivation, EveryEpilogueActivationMatchesItsKernel) {
  const std::vector<ActivationCase> cases = {
      {"Relu", {}},
      {"LeakyRelu", {{"alpha", float_attr(0.2f)}}},
      {"Sigmoid", {}},
      {"Tanh", {}},
      {"Elu", {{"alpha", float_attr(0.7f)}}},
      {"Selu", {{"alpha", float_attr(1.5f)}, {"gamma", float_attr(1.1f)}}},
      {"Celu", {{"alpha", float_attr(2.0f)}}},
      {"HardSigmoid", {{"alpha", float_attr(0.3f)}, {"beta", float_attr(0.4f)}}},
      {"HardSwish", {}},
      {"Softplus", {}},
      {"Softsign", {}},
      {"ThresholdedRelu", {{"alpha", float_attr(0.1f)}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.op);
    Graph g = linear_relu(6, 9, 7, c.op, c.attrs);
    Graph fused = g;
    auto lines = run_pass(fused, make_fuse_gemm_activation());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], std::string("fused ") + c.op + " 'fc1/act' into Gemm 'fc1'");
    EXPECT_EQ(count_ops(fused, c.op), 0);
    const Node& n = fused.node(fused.value(fused.find_value("Y")).producer);
    for (const auto& [name, a] : c.attrs) EXPECT_TRUE(n.attrs.has("activation_" + name)) << name;
    // Inputs scaled to [-3, 3) so the activations' interesting ranges are crossed.
    expect_same_with_and_without_passes(g, {{"X", random_tensor({6, 9}, 5, -3.0f, 3.0f)}});
  }
}

}  // namespace
}  // namespace onnx_mini::testing
