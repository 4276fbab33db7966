// The IR: producer/consumer links, topological order, cycles, rewiring, verify.
#include <gtest/gtest.h>

#include "graph/ir.h"

namespace onnx_mini {
namespace {

const OpDef* relu_def() { return default_registry().find("Relu", "", 13); }

NodeId add_relu(Graph& g, ValueId in, ValueId out, const std::string& name) {
  Node n;
  n.name = name;
  n.op_type = "Relu";
  n.def = relu_def();
  n.opset = 13;
  n.inputs = {in};
  n.outputs = {out};
  return g.add_node(std::move(n));
}

TEST(IrTest, LinksAndTopologicalOrder) {
  Graph g;
  ValueId x = g.add_value("x"), a = g.add_value("a"), b = g.add_value("b");
  g.value(x).is_graph_input = true;
  g.inputs().push_back(x);
  // Added in reverse order: the sort must still put n1 first.
  NodeId n2 = add_relu(g, a, b, "n2");
  NodeId n1 = add_relu(g, x, a, "n1");
  g.value(b).is_graph_output = true;
  g.outputs().push_back(b);
  EXPECT_EQ(g.value(a).producer, n1);
  ASSERT_EQ(g.value(a).consumers.size(), 1u);
  EXPECT_EQ(g.value(a).consumers[0], n2);
  auto order = g.topological_order();
  ASSERT_TRUE(order.is_ok());
  EXPECT_EQ(order.value(), (std::vector<NodeId>{n1, n2}));
  EXPECT_TRUE(verify_graph(g).is_ok());
}

TEST(IrTest, CycleIsReportedWithANodeName) {
  Graph g;
  ValueId a = g.add_value("a"), b = g.add_value("b");
  add_relu(g, a, b, "n1");
  add_relu(g, b, a, "n2");
  auto order = g.topological_order();
  ASSERT_FALSE(order.is_ok());
  EXPECT_NE(order.status().message().find("cycle"), std::string::npos);
}

TEST(IrTest, RemoveAndReplaceKeepLinksConsistent) {
  Graph g;
  ValueId x = g.add_value("x"), a = g.add_value("a"), b = g.add_value("b");
  g.value(x).is_graph_input = true;
  g.inputs().push_back(x);
  NodeId n1 = add_relu(g, x, a, "n1");
  add_relu(g, a, b, "n2");
  g.value(b).is_graph_output = true;
  g.outputs().push_back(b);
  // Bypass n1: n2 reads x directly.
  g.replace_all_uses(a, x);
  g.remove_node(n1);
  EXPECT_TRUE(g.value(a).consumers.empty());
  EXPECT_EQ(g.value(x).consumers.size(), 1u);
  EXPECT_EQ(g.num_live_nodes(), 1u);
  EXPECT_TRUE(verify_graph(g).is_ok()) << verify_graph(g).message();
}

TEST(IrTest, VerifyCatchesAnUndefinedInput) {
  Graph g;
  ValueId ghost = g.add_value("ghost"), out = g.add_value("out");
  add_relu(g, ghost, out, "n");
  g.value(out).is_graph_output = true;
  g.outputs().push_back(out);
  Status s = verify_graph(g);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("'ghost' is not defined"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace onnx_mini
