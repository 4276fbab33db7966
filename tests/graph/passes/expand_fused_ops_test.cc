// ExpandFusedOps: every com.onnx_mini op has an expansion, and an expanded
// graph computes what the fused one did with standard ONNX ops only.
#include <onnx/onnx_pb.h>

#include "graph/onnx_loader.h"
#include "graph/onnx_writer.h"
#include "graph/passes/expand_fused_ops.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// The expanded graph runs the same arithmetic through other kernels (Gemm or
// MatMul + Add instead of the fused epilogue): a few float32 roundings apart per
// dot product of at most 16 terms of magnitude <= 1.
constexpr Tolerance kExpandTolerance{.atol = 1e-5, .rtol = 1e-4};

int count_domain(const Graph& g, const std::string& domain) {
  int n = 0;
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!node.removed && node.domain == domain) ++n;
  }
  return n;
}

// Runs `g` as it is (-O0), expands a copy, checks that no fused op is left,
// and that the copy gives the same outputs.
Graph expand_and_compare(const Graph& g, const std::vector<NamedTensor>& inputs) {
  Graph expanded = g;
  run_pass(expanded, make_expand_fused_ops());
  EXPECT_EQ(count_domain(expanded, kOnnxMiniDomain), 0);
  EXPECT_EQ(expanded.opset_imports().count(kOnnxMiniDomain), 0u);
  auto want = run_graph(g, inputs, 0);
  auto got = run_graph(expanded, inputs, 0);
  EXPECT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size() && i < got.size(); ++i) {
    expect_close(got[i].tensor, want[i].tensor, kExpandTolerance, want[i].name);
  }
  return expanded;
}

TEST(ExpandFusedOps, EveryRegisteredFusedOpHasAnExpansion) {
  int fused_ops = 0;
  for (const OpDef* def : default_registry().all()) {
    if (def->domain != kOnnxMiniDomain) continue;
    ++fused_ops;
    EXPECT_NE(find_fused_op_expansion(def->op_type), nullptr)
        << kOnnxMiniDomain << "." << def->op_type << " has no expansion in fused_op_expansions()";
  }
  EXPECT_GT(fused_ops, 0);
}

struct ActivationCase {
  std::string op;
  std::map<std::string, Attribute> params;  // as activation_<name> attributes
};

std::vector<ActivationCase> activation_cases() {
  return {{"", {}},
          {"Relu", {}},
          {"LeakyRelu", {{"activation_alpha", float_attr(0.2f)}}},
          {"Sigmoid", {}},
          {"Tanh", {}},
          {"Elu", {{"activation_alpha", float_attr(0.7f)}}},
          {"Selu", {{"activation_alpha", float_attr(1.5f)}, {"activation_gamma", float_attr(1.1f)}}},
          {"Celu", {{"activation_alpha", float_attr(0.8f)}}},
          {"HardSigmoid", {{"activation_alpha", float_attr(0.3f)}, {"activation_beta", float_attr(0.4f)}}},
          {"HardSwish", {}},
          {"Softplus", {}},
          {"Softsign", {}},
          {"ThresholdedRelu", {{"activation_alpha", float_attr(0.1f)}}}};
}

std::map<std::string, Attribute> with_activation(const ActivationCase& c, std::map<std::string, Attribute> attrs) {
  if (!c.op.empty()) attrs["activation"] = string_attr(c.op);
  for (const auto& [k, v] : c.params) attrs[k] = v;
  return attrs;
}

TEST(ExpandFusedOps, TwoDimensionalFusedGemmBecomesGemmAndItsActivation) {
  for (const ActivationCase& act : activation_cases()) {
    SCOPED_TRACE(act.op.empty() ? "no activation" : act.op);
    GraphBuilder b(17);
    b.input("X", DataType::kFloat, {4, 6}).initializer("W", random_tensor({5, 6}, 1)).initializer("C", random_tensor({5}, 2));
    b.node("FusedGemm", {"X", "W", "C"}, {"Y"},
           with_activation(act, {{"transB", int_attr(1)}, {"alpha", float_attr(0.5f)}, {"beta", float_attr(2.0f)}}),
           "fc", kOnnxMiniDomain);
    b.output("Y");
    Graph expanded = expand_and_compare(b.build(), {{"X", random_tensor({4, 6}, 3, -2, 2)}});
    EXPECT_EQ(count_ops(expanded, "Gemm"), 1);
    if (!act.op.empty()) {
      EXPECT_EQ(count_ops(expanded, act.op), 1);
    }
    EXPECT_EQ(expanded.num_live_nodes(), act.op.empty() ? 1u : 2u);
  }
}

TEST(ExpandFusedOps, TransposedAAndPerRowBias) {
  GraphBuilder b(13);
  b.input("X", DataType::kFloat, {6, 4}).input("W", DataType::kFloat, {6, 5}).input("C", DataType::kFloat, {4, 5});
  b.node("FusedGemm", {"X", "W", "C"}, {"Y"},
         {{"transA", int_attr(1)}, {"activation", string_attr("Relu")}}, "fc", kOnnxMiniDomain);
  b.output("Y");
  Graph expanded = expand_and_compare(
      b.build(), {{"X", random_tensor({6, 4}, 4)}, {"W", random_tensor({6, 5}, 5)}, {"C", random_tensor({4, 5}, 6)}});
  EXPECT_EQ(count_ops(expanded, "Gemm"), 1);
}

TEST(ExpandFusedOps, NoBiasBelowOpset11GetsAZeroBiasBecauseGemmNeedsOne) {
  GraphBuilder b(9);
  b.input("X", DataType::kFloat, {3, 4}).initializer("W", random_tensor({4, 2}, 7));
  b.node("FusedGemm", {"X", "W"}, {"Y"}, {{"activation", string_attr("Sigmoid")}}, "fc", kOnnxMiniDomain);
  b.output("Y");
  Graph expanded = expand_and_compare(b.build(), {{"X", random_tensor({3, 4}, 8)}});
  for (size_t i = 0; i < expanded.num_node_slots(); ++i) {
    const Node& n = expanded.node(static_cast<NodeId>(i));
    if (!n.removed && n.op_type == "Gemm") {
      EXPECT_EQ(n.inputs.size(), 3u);
    }
  }
}

TEST(ExpandFusedOps, NdInputBecomesMatMulScaleAndBias) {
  for (bool constant_weight : {true, false}) {
    SCOPED_TRACE(constant_weight ? "constant W" : "fed W");
    GraphBuilder b(17);
    b.input("X", DataType::kFloat, {2, 3, 6}).initializer("C", random_tensor({5}, 2));
    if (constant_weight) {
      b.initializer("W", random_tensor({5, 6}, 1));
    } else {
      b.input("W", DataType::kFloat, {5, 6});
    }
    b.node("FusedGemm", {"X", "W", "C"}, {"Y"},
           {{"transB", int_attr(1)}, {"alpha", float_attr(-1.5f)}, {"beta", float_attr(0.25f)},
            {"activation", string_attr("Tanh")}},
           "fc", kOnnxMiniDomain);
    b.output("Y");
    std::vector<NamedTensor> inputs = {{"X", random_tensor({2, 3, 6}, 3)}};
    if (!constant_weight) inputs.push_back({"W", random_tensor({5, 6}, 1)});
    Graph expanded = expand_and_compare(b.build(), inputs);
    EXPECT_EQ(count_ops(expanded, "MatMul"), 1);
    EXPECT_EQ(count_ops(expanded, "Transpose"), constant_weight ? 0 : 1);
    EXPECT_EQ(count_ops(expanded, "Mul"), 2);  // alpha, beta
    EXPECT_EQ(count_ops(expanded, "Add"), 1);
    EXPECT_EQ(count_ops(expanded, "Tanh"), 1);
  }
}

TEST(ExpandFusedOps, NdInputWithPerRowBiasIsRefusedWithTheReason) {
  GraphBuilder b(17);
  b.input("X", DataType::kFloat, {2, 3, 6}).initializer("W", random_tensor({6, 5}, 1));
  b.initializer("C", random_tensor({6, 5}, 2));
  b.node("FusedGemm", {"X", "W", "C"}, {"Y"}, {}, "fc", kOnnxMiniDomain);
  b.output("Y");
  Graph g = b.build();
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(make_expand_fused_ops());
  Status s = run_passes(g, passes, PassContext{});
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.message().find("node 'fc'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("per-row C float[6, 5]"), std::string::npos) << s.message();
}

TEST(ExpandFusedOps, OptimizedShippedModelExpandsToStandardOpsAndWritesNoPrivateDomain) {
  auto loaded = load_onnx_file(std::string(ONNX_MINI_SOURCE_DIR) + "/models/mlp_cross_entropy/model.onnx");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  Graph g = std::move(loaded).value();
  PassContext ctx;
  ASSERT_TRUE(optimize_graph(g, ctx).is_ok());
  ASSERT_GT(count_domain(g, kOnnxMiniDomain), 0);
  std::vector<NamedTensor> inputs;
  for (ValueId v : g.inputs()) {
    const TensorInfo& info = g.value(v).info;
    std::vector<int64_t> dims;
    for (const Dim& d : info.dims) dims.push_back(d.known() ? d.value : 4);
    if (info.dtype == DataType::kFloat) {
      inputs.push_back({g.value(v).name, random_tensor(dims, 11)});
    } else {  // class labels in [0, 5): the model has 5 classes
      Tensor labels = Tensor::allocate(info.dtype, Shape(dims.begin(), dims.end()));
      for (int64_t i = 0; i < labels.num_elements(); ++i) labels.data<int64_t>()[i] = i % 5;
      inputs.push_back({g.value(v).name, labels});
    }
  }
  Graph expanded = expand_and_compare(g, inputs);
  onnx::ModelProto model;
  graph_to_model(expanded, model);
  for (const auto& op : model.opset_import()) EXPECT_NE(op.domain(), kOnnxMiniDomain);
  for (const auto& n : model.graph().node()) EXPECT_TRUE(n.domain().empty()) << n.op_type();
}

}  // namespace
}  // namespace onnx_mini::testing
