// FuseLayerNorm: PyTorch's exported layer_norm (ReduceMean, Sub, Pow, ReduceMean,
// Add, Sqrt, Div, Mul, Add) becomes one LayerNormalization (com.onnx_mini below
// opset 17, ai.onnx from 17); axes that are not trailing, a Pow exponent other
// than 2, and a second consumer of the normalised value do not fuse; the
// expansion gives the chain back.
#include "graph/passes/expand_fused_ops.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct LnGraph {
  int opset = 13;
  std::vector<int64_t> axes = {-1};
  float exponent = 2.0f;
  bool normalized_is_output = false;
};

Attribute ints_attr(const std::vector<int64_t>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = v;
  return a;
}

Graph build_ln(const LnGraph& c) {
  GraphBuilder b(c.opset);
  b.input("x", DataType::kFloat, {2, 3, 16});
  b.initializer("two", scalar<float>(c.exponent));
  b.initializer("eps", scalar<float>(1e-5f));
  b.initializer("w", random_tensor({16}, 1, 0.5f, 1.5f));
  b.initializer("b", random_tensor({16}, 2));
  b.node("ReduceMean", {"x"}, {"mean"}, {{"axes", ints_attr(c.axes)}}, "ln/mean");
  b.node("Sub", {"x", "mean"}, {"d"}, {}, "ln/sub");
  b.node("Pow", {"d", "two"}, {"sq"}, {}, "ln/pow");
  b.node("ReduceMean", {"sq"}, {"var"}, {{"axes", ints_attr(c.axes)}}, "ln/var");
  b.node("Add", {"var", "eps"}, {"ve"}, {}, "ln/add_eps");
  b.node("Sqrt", {"ve"}, {"std"}, {}, "ln/sqrt");
  b.node("Div", {"d", "std"}, {"n"}, {}, "ln/div");
  b.node("Mul", {"n", "w"}, {"m"}, {}, "ln/mul");
  b.node("Add", {"m", "b"}, {"y"}, {}, "ln/add");
  b.output("y");
  if (c.normalized_is_output) b.output("n");
  return b.build();
}

std::vector<NamedTensor> feeds() { return {{"x", random_tensor({2, 3, 16}, 3, -2.f, 4.f)}}; }

TEST(FuseLayerNorm, ChainBecomesOneNode) {
  LnGraph c;
  Graph g = build_ln(c);
  auto lines = run_pass(g, make_fuse_layer_norm());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "fused ReduceMean 'ln/mean' ... Add 'ln/add' (9 nodes) into com.onnx_mini.LayerNormalization");
  EXPECT_EQ(g.num_live_nodes(), 1u);
  const Node& ln = g.node(g.value(g.find_value("y")).producer);
  EXPECT_EQ(ln.domain, kOnnxMiniDomain);
  EXPECT_EQ(ln.attrs.get_int("axis", 0).value(), 2);
  // The chain rounds in float at every step (mean, d, d^2, var, sqrt, div):
  // a few float ULPs of values of order 1-3.
  expect_same_with_and_without_passes(g, feeds(), {.atol = 1e-5, .rtol = 1e-5});
}

TEST(FuseLayerNorm, TwoTrailingAxesAtOpset17) {
  LnGraph c;
  c.opset = 17;
  c.axes = {1, 2};
  Graph g = build_ln(c);
  auto lines = run_pass(g, make_fuse_layer_norm());
  ASSERT_EQ(lines.size(), 1u);
  const Node& ln = g.node(g.value(g.find_value("y")).producer);
  EXPECT_EQ(ln.domain, kOnnxDomain);
  EXPECT_EQ(ln.attrs.get_int("axis", 0).value(), 1);
  expect_same_with_and_without_passes(g, feeds(), {.atol = 1e-5, .rtol = 1e-5});
}

TEST(FuseLayerNorm, NegativeCases) {
  LnGraph leading;
  leading.axes = {1};  // not the trailing dims
  LnGraph cube;
  cube.exponent = 3.0f;
  LnGraph output;
  output.normalized_is_output = true;
  for (const LnGraph& c : {leading, cube, output}) {
    Graph g = build_ln(c);
    EXPECT_TRUE(run_pass(g, make_fuse_layer_norm()).empty());
    EXPECT_EQ(count_ops(g, "LayerNormalization"), 0);
  }
}

TEST(FuseLayerNorm, ExpansionGivesTheChainBack) {
  Graph g = build_ln(LnGraph{});
  ASSERT_EQ(run_pass(g, make_fuse_layer_norm()).size(), 1u);
  Graph expanded = g;
  auto lines = run_pass(expanded, make_expand_fused_ops());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "expanded LayerNormalization 'ln/add' into ReduceMean Sub Mul ReduceMean Add Sqrt Div Mul Add");
  EXPECT_EQ(count_ops(expanded, "LayerNormalization"), 0);
  auto fused = run_graph(g, feeds(), 0), chain = run_graph(expanded, feeds(), 0);
  ASSERT_EQ(fused.size(), 1u);
  ASSERT_EQ(chain.size(), 1u);
  // As above: the expanded chain rounds in float at every step.
  expect_close(chain[0].tensor, fused[0].tensor, {.atol = 1e-5, .rtol = 1e-5}, "y");
}

}  // namespace
}  // namespace onnx_mini::testing
