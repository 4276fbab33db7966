// start_fusion / finalize_fusion, the end every fusing or lowering rewrite
// shares: the replacement writes the last matched node's outputs under their
// names, the matched nodes go, consumers and graph outputs are untouched, and
// onnx-mini's domain is declared when the replacement lives there.
#include <gtest/gtest.h>

#include <tuple>

#include "graph/passes/fusion.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

constexpr int kOpset = 17;

NodeId add_node(Graph& g, const std::string& op, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                const std::string& name) {
  Node n;
  n.name = name;
  n.op_type = op;
  n.opset = kOpset;
  n.def = default_registry().find(op, kOnnxDomain, kOpset);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return g.add_node(std::move(n));
}

// X -> Gemm 'fc' -> h -> Relu 'act' -> Y -> Neg 'after' -> Z; Y is also a graph output.
struct GemmRelu {
  Graph g;
  ValueId x, w, h, y, z;
  NodeId gemm, relu, after;

  GemmRelu() {
    g.opset_imports()[kOnnxDomain] = kOpset;
    x = g.add_value("X");
    w = g.add_value("W");
    h = g.add_value("h");
    y = g.add_value("Y");
    z = g.add_value("Z");
    for (ValueId in : {x, w}) {
      g.value(in).is_graph_input = true;
      g.inputs().push_back(in);
    }
    gemm = add_node(g, "Gemm", {x, w}, {h}, "fc");
    relu = add_node(g, "Relu", {h}, {y}, "act");
    after = add_node(g, "Neg", {y}, {z}, "after");
    for (ValueId out : {y, z}) {
      g.value(out).is_graph_output = true;
      g.outputs().push_back(out);
    }
  }
};

TEST(FinalizeFusionTest, StartResolvesTheReplacementAndTakesTheLastOutputs) {
  GemmRelu m;
  Fusion f = start_fusion(m.g, {m.gemm, m.relu}, "FusedGemm", kOnnxMiniDomain, "fc");
  EXPECT_EQ(f.matched, (std::vector<NodeId>{m.gemm, m.relu}));
  EXPECT_EQ(f.node.op_type, "FusedGemm");
  EXPECT_EQ(f.node.domain, kOnnxMiniDomain);
  EXPECT_EQ(f.node.name, "fc");
  EXPECT_EQ(f.node.opset, 1);  // onnx-mini's domain, not yet imported
  ASSERT_NE(f.node.def, nullptr);
  EXPECT_EQ(f.node.outputs, (std::vector<ValueId>{m.y}));
  EXPECT_TRUE(f.node.inputs.empty());
  EXPECT_TRUE(f.node.attrs.all().empty());
  // Nothing changes until the fusion is finalized.
  EXPECT_FALSE(m.g.node(m.gemm).removed);
  EXPECT_EQ(m.g.value(m.y).producer, m.relu);
}

TEST(FinalizeFusionTest, ReplacesTheMatchedNodesKeepingNamesAndConsumers) {
  GemmRelu m;
  Fusion f = start_fusion(m.g, {m.gemm, m.relu}, "FusedGemm", kOnnxMiniDomain, "fc");
  f.node.inputs = {m.x, m.w};
  const NodeId fused = finalize_fusion(m.g, std::move(f));

  EXPECT_TRUE(m.g.node(m.gemm).removed);
  EXPECT_TRUE(m.g.node(m.relu).removed);
  EXPECT_EQ(m.g.num_live_nodes(), 2u);
  // Y keeps its id and name, now written by the fused node; its reader and its
  // place among the graph outputs are unchanged.
  EXPECT_EQ(m.g.value(m.y).producer, fused);
  EXPECT_EQ(m.g.value(m.y).name, "Y");
  EXPECT_EQ(m.g.value(m.y).consumers, (std::vector<NodeId>{m.after}));
  EXPECT_EQ(m.g.outputs(), (std::vector<ValueId>{m.y, m.z}));
  // The intermediate is gone from the data flow.
  EXPECT_EQ(m.g.value(m.h).producer, kNoId);
  EXPECT_TRUE(m.g.value(m.h).consumers.empty());
  // The inputs are read by the fused node only.
  EXPECT_EQ(m.g.value(m.x).consumers, (std::vector<NodeId>{fused}));
  EXPECT_EQ(m.g.opset(kOnnxMiniDomain), 1);
  Status verified = verify_graph(m.g);
  EXPECT_TRUE(verified.is_ok()) << verified.message();
}

TEST(FinalizeFusionTest, AnAiOnnxReplacementDeclaresNoNewDomain) {
  GemmRelu m;
  // A one-node "fusion" (a lowering): Neg 'after' replaced by Abs under its name.
  Fusion f = start_fusion(m.g, {m.after}, "Abs", kOnnxDomain, "after");
  f.node.inputs = {m.y};
  const NodeId abs = finalize_fusion(m.g, std::move(f));
  EXPECT_EQ(m.g.value(m.z).producer, abs);
  EXPECT_EQ(m.g.node(abs).opset, kOpset);
  EXPECT_EQ(m.g.opset_imports().count(kOnnxMiniDomain), 0u);
  EXPECT_TRUE(verify_graph(m.g).is_ok());
}

TEST(FinalizeFusionTest, ReplaceNodesSplitsOneNodeIntoSeveral) {
  // The expansion direction: Relu 'act' becomes Neg -> Neg, the last one writing Y.
  GemmRelu m;
  const ValueId mid = m.g.add_value("Y_mid");
  std::vector<Node> add;
  for (auto [in, out, name] : {std::tuple{m.h, mid, "act/neg1"}, std::tuple{mid, m.y, "act/neg2"}}) {
    Node n = make_node(m.g, "Neg", kOnnxDomain, name);
    n.inputs = {in};
    n.outputs = {out};
    add.push_back(std::move(n));
  }
  const std::vector<NodeId> added = replace_nodes(m.g, {m.relu}, std::move(add));
  ASSERT_EQ(added.size(), 2u);
  EXPECT_TRUE(m.g.node(m.relu).removed);
  EXPECT_EQ(m.g.value(mid).producer, added[0]);
  EXPECT_EQ(m.g.value(m.y).producer, added[1]);
  EXPECT_EQ(m.g.value(m.y).consumers, (std::vector<NodeId>{m.after}));
  EXPECT_EQ(m.g.value(m.h).consumers, (std::vector<NodeId>{added[0]}));
  EXPECT_EQ(m.g.opset_imports().count(kOnnxMiniDomain), 0u);
  Status verified = verify_graph(m.g);
  EXPECT_TRUE(verified.is_ok()) << verified.message();
}

TEST(FinalizeFusionTest, PrivateIntermediateIsTheOnlyValueAFusionMayDrop) {
  GemmRelu m;
  EXPECT_TRUE(is_private_intermediate(m.g, m.h));   // one reader, not an output
  EXPECT_FALSE(is_private_intermediate(m.g, m.y));  // a graph output
  EXPECT_FALSE(is_private_intermediate(m.g, m.x));  // a graph input
  EXPECT_FALSE(is_private_intermediate(m.g, kNoId));
  add_node(m.g, "Relu", {m.h}, {m.g.add_value("h2")}, "second_reader");
  EXPECT_FALSE(is_private_intermediate(m.g, m.h));
}

}  // namespace
}  // namespace onnx_mini
