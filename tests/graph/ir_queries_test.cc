// The Graph queries the passes build their checks on.
#include <gtest/gtest.h>

#include "graph/ir.h"

namespace onnx_mini {
namespace {

NodeId add_relu(Graph& g, ValueId in, ValueId out) {
  Node n;
  n.op_type = "Relu";
  n.opset = 13;
  n.def = default_registry().find("Relu", "", 13);
  n.inputs = {in};
  n.outputs = {out};
  return g.add_node(std::move(n));
}

TEST(IrQueriesTest, ConsumersOutputsAndUnusedValues) {
  Graph g;
  ValueId x = g.add_value("x"), a = g.add_value("a"), b = g.add_value("b"), c = g.add_value("c");
  g.value(x).is_graph_input = true;
  g.inputs().push_back(x);
  const NodeId first = add_relu(g, x, a);
  const NodeId second = add_relu(g, a, b);
  add_relu(g, x, c);  // x has two readers
  g.value(b).is_graph_output = true;
  g.outputs().push_back(b);

  EXPECT_TRUE(g.has_single_consumer(a));
  EXPECT_EQ(g.sole_consumer(a), second);
  EXPECT_FALSE(g.has_single_consumer(x));
  EXPECT_EQ(g.sole_consumer(x), kNoId);
  EXPECT_EQ(g.sole_consumer(b), kNoId);  // read by nothing

  EXPECT_TRUE(g.is_graph_output(b));
  EXPECT_FALSE(g.is_graph_output(a));
  EXPECT_FALSE(g.is_unused(a));
  EXPECT_FALSE(g.is_unused(b));  // a graph output counts as used
  EXPECT_TRUE(g.is_unused(c));

  g.remove_node(second);
  EXPECT_TRUE(g.is_unused(a));
  EXPECT_EQ(g.sole_consumer(x), kNoId);
  EXPECT_EQ(g.value(a).producer, first);
}

}  // namespace
}  // namespace onnx_mini
