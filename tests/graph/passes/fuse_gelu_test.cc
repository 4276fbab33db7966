// FuseGelu: PyTorch's exported exact GELU (Div -> Erf -> Add -> Mul -> Mul, and
// the form with 0.5 applied to x first) and its tanh form becomes one Gelu (com.onnx_mini below
// opset 20, ai.onnx from 20), which FuseGemmActivation then folds into the
// FusedGemm before it; a second consumer, a graph output in the chain, a wrong
// constant or a different x do not fuse; the expansion gives the chain back.
#include "graph/passes/expand_fused_ops.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

enum class Form { kHalfLast, kHalfFirst };

struct GeluGraph {
  Form form = Form::kHalfLast;
  int opset = 13;
  float sqrt2 = 1.41421353816986083984f;  // what torch writes
  bool erf_is_output = false;             // the Erf result also a graph output
  bool other_x = false;                   // the outer Mul reads another input
  bool gemm_before = false;               // x = MatMul(a, w) + bias, as in a transformer's feed-forward
};

Graph build_gelu(const GeluGraph& c) {
  GraphBuilder b(c.opset);
  b.initializer("sqrt2", scalar<float>(c.sqrt2));
  b.initializer("one", scalar<float>(1.0f));
  b.initializer("half", scalar<float>(0.5f));
  if (c.gemm_before) {
    b.input("a", DataType::kFloat, {4, 8});
    b.initializer("w", random_tensor({8, 6}, 1));
    b.initializer("bias", random_tensor({6}, 2));
    b.node("MatMul", {"a", "w"}, {"mm"}, {}, "fc1");
    b.node("Add", {"mm", "bias"}, {"x"}, {}, "fc1/bias");
  } else {
    b.input("x", DataType::kFloat, {4, 6});
  }
  b.input("z", DataType::kFloat, {4, 6});
  b.node("Div", {"x", "sqrt2"}, {"d"}, {}, "gelu/div");
  b.node("Erf", {"d"}, {"e"}, {}, "gelu/erf");
  b.node("Add", {"e", "one"}, {"p"}, {}, "gelu/add");
  const std::string x = c.other_x ? "z" : "x";
  if (c.form == Form::kHalfLast) {
    b.node("Mul", {x, "p"}, {"m"}, {}, "gelu/mul");
    b.node("Mul", {"m", "half"}, {"y"}, {}, "gelu/mul_1");
  } else {
    b.node("Mul", {x, "half"}, {"h"}, {}, "gelu/mul");
    b.node("Mul", {"h", "p"}, {"y"}, {}, "gelu/mul_1");
  }
  b.output("y");
  if (c.erf_is_output) b.output("e");
  return b.build();
}

std::vector<NamedTensor> feeds(const GeluGraph& c) {
  // Down to -6, where 1 + erf keeps few digits: the tolerance below is the
  // unfused chain's error, not the fused kernel's (within 1 ULP).
  std::vector<NamedTensor> f = {{"z", random_tensor({4, 6}, 4, -6.f, 6.f)}};
  f.push_back(c.gemm_before ? NamedTensor{"a", random_tensor({4, 8}, 3)} : NamedTensor{"x", random_tensor({4, 6}, 5, -6.f, 6.f)});
  return f;
}

TEST(FuseGelu, ErfChainBecomesOnnxMiniGeluBelowOpset20) {
  for (Form form : {Form::kHalfLast, Form::kHalfFirst}) {
    GeluGraph c;
    c.form = form;
    Graph g = build_gelu(c);
    auto lines = run_pass(g, make_fuse_gelu());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "fused Div, Erf, Add, Mul, Mul ending in 'gelu/mul_1' into com.onnx_mini.Gelu");
    EXPECT_EQ(g.num_live_nodes(), 1u);
    const Node& gelu = g.node(g.value(g.find_value("y")).producer);
    EXPECT_EQ(gelu.op_type, "Gelu");
    EXPECT_EQ(gelu.domain, kOnnxMiniDomain);
    // The unfused chain's 1 + erf cancels for negative x: its absolute error
    // is up to |x|/2 * 2^-24 (half a float ULP of erf near -1), 1.8e-7 at
    // x = -6, under atol; elsewhere both agree within a few float ULPs.
    expect_same_with_and_without_passes(g, feeds(c), {.atol = 1e-6, .rtol = 1e-5});
  }
}

// As torch 1.13 exports nn.GELU(approximate='tanh') (models/gelu_tanh).
Graph build_gelu_tanh(bool cube_shared) {
  GraphBuilder b(13);
  b.input("x", DataType::kFloat, {4, 6});
  b.initializer("cubic", scalar<float>(0.044714998453855515f));
  b.initializer("scale", scalar<float>(0.7978845834732056f));
  b.initializer("one", scalar<float>(1.0f));
  b.initializer("half", scalar<float>(0.5f));
  b.node("Mul", {"x", "x"}, {"x2"}, {}, "mul");
  b.node("Mul", {"x", "x2"}, {"x3"}, {}, "mul_1");
  b.node("Mul", {"cubic", "x3"}, {"c"}, {}, "mul_2");
  b.node("Add", {"x", "c"}, {"inner"}, {}, "add");
  b.node("Mul", {"scale", "inner"}, {"u"}, {}, "mul_3");
  b.node("Tanh", {"u"}, {"t"}, {}, "tanh");
  b.node("Add", {"one", "t"}, {"p"}, {}, "add_1");
  b.node("Mul", {"x", "p"}, {"m"}, {}, "mul_4");
  b.node("Mul", {"half", "m"}, {"y"}, {}, "mul_5");
  b.output("y");
  if (cube_shared) b.output("x3");
  return b.build();
}

TEST(FuseGelu, TanhChainBecomesGeluTanh) {
  Graph g = build_gelu_tanh(false);
  auto lines = run_pass(g, make_fuse_gelu());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "fused Mul, Mul, Mul, Add, Mul, Tanh, Add, Mul, Mul ending in 'mul_5' into com.onnx_mini.Gelu (tanh)");
  EXPECT_EQ(g.num_live_nodes(), 1u);
  const Node& gelu = g.node(g.value(g.find_value("y")).producer);
  EXPECT_EQ(gelu.attrs.get_string("approximate", "none").value(), "tanh");
  const std::vector<NamedTensor> feeds = {{"x", random_tensor({4, 6}, 6, -6.f, 6.f)}};
  // The chain's 1 + tanh cancels for negative x as 1 + erf does (see above).
  expect_same_with_and_without_passes(build_gelu_tanh(false), feeds, {.atol = 1e-6, .rtol = 1e-5});
  Graph expanded = g;
  auto expand_lines = run_pass(expanded, make_expand_fused_ops());
  ASSERT_EQ(expand_lines.size(), 1u);
  EXPECT_EQ(expand_lines[0], "expanded Gelu 'mul_5' into Mul Mul Mul Add Mul Tanh Add Mul Mul");
  auto fused = run_graph(g, feeds, 0), chain = run_graph(expanded, feeds, 0);
  ASSERT_EQ(chain.size(), 1u);
  expect_close(chain[0].tensor, fused[0].tensor, {.atol = 1e-6, .rtol = 1e-5}, "y");
}

TEST(FuseGelu, TanhChainWithASharedIntermediateStays) {
  Graph g = build_gelu_tanh(true);
  EXPECT_TRUE(run_pass(g, make_fuse_gelu()).empty());
}

TEST(FuseGelu, OnnxGeluFromOpset20) {
  GeluGraph c;
  c.opset = 20;
  Graph g = build_gelu(c);
  auto lines = run_pass(g, make_fuse_gelu());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "fused Div, Erf, Add, Mul, Mul ending in 'gelu/mul_1' into Gelu");
  EXPECT_EQ(g.node(g.value(g.find_value("y")).producer).domain, kOnnxDomain);
}

TEST(FuseGelu, FoldsIntoTheGemmBefore) {
  GeluGraph c;
  c.gemm_before = true;
  Graph g = build_gelu(c);
  Graph opt = g;
  PassContext ctx;
  ctx.opt_level = 1;
  ASSERT_TRUE(optimize_graph(opt, ctx).is_ok());
  EXPECT_EQ(opt.num_live_nodes(), 1u);
  EXPECT_EQ(count_ops(opt, "FusedGemm"), 1);
  expect_same_with_and_without_passes(g, feeds(c), {.atol = 1e-6, .rtol = 1e-5});
}

TEST(FuseGelu, NegativeCases) {
  GeluGraph output;
  output.erf_is_output = true;
  GeluGraph other;
  other.other_x = true;
  GeluGraph wrong;
  wrong.sqrt2 = 1.5f;
  for (const GeluGraph& c : {output, other, wrong}) {
    Graph g = build_gelu(c);
    EXPECT_TRUE(run_pass(g, make_fuse_gelu()).empty());
    EXPECT_EQ(count_ops(g, "Gelu"), 0);
  }
}

TEST(FuseGelu, ExpansionGivesTheChainBack) {
  GeluGraph c;
  Graph g = build_gelu(c);
  ASSERT_EQ(run_pass(g, make_fuse_gelu()).size(), 1u);
  Graph expanded = g;
  auto lines = run_pass(expanded, make_expand_fused_ops());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "expanded Gelu 'gelu/mul_1' into Div Erf Add Mul Mul");
  EXPECT_EQ(count_ops(expanded, "Gelu"), 0);
  auto fused = run_graph(g, feeds(c), 0), chain = run_graph(expanded, feeds(c), 0);
  ASSERT_EQ(fused.size(), 1u);
  ASSERT_EQ(chain.size(), 1u);
  expect_close(chain[0].tensor, fused[0].tensor, {.atol = 1e-6, .rtol = 1e-5}, "y");
}

}  // namespace
}  // namespace onnx_mini::testing
