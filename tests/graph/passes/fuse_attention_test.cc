// FuseAttention: MatMul -> (Mul/Div scale) -> (Add mask, or Where with a bool
// mask either way round) -> Softmax -> MatMul
// becomes one com.onnx_mini.FusedAttention whose output equals the chain's bit
// for bit (the kernel does the chain's float operations in the same order);
// a Softmax over another axis, a non-constant scale and a second consumer of
// the scores and a Where whose fill is not a constant do not fuse; a mask that
// grows the scores does; the expansion gives the chain back.
#include <limits>

#include "graph/passes/expand_fused_ops.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

constexpr int64_t kBatch = 2, kHeads = 3, kSeq = 5, kKv = 7, kDim = 4;

enum class Scale { kNone, kDiv, kMulLeft, kFedMul };
// How the mask enters: added, or Where(mask, fill, S) as masked_fill exports,
// or Where(mask, S, fill); kWhereFedFill has a fill fed at run time.
enum class MaskOp { kAdd, kWhereFills, kWhereKeeps, kWhereFedFill };

struct AttGraph {
  int opset = 13;
  Scale scale = Scale::kDiv;
  std::vector<int64_t> mask = {kSeq, kKv};  // empty: no mask
  int64_t softmax_axis = -1;
  bool scores_are_output = false;
  MaskOp mask_op = MaskOp::kAdd;
};

Graph build_attention(const AttGraph& c) {
  GraphBuilder b(c.opset);
  b.input("q", DataType::kFloat, {kBatch, kHeads, kSeq, kDim});
  b.input("kt", DataType::kFloat, {kBatch, kHeads, kDim, kKv});
  b.input("v", DataType::kFloat, {kBatch, 1, kKv, kDim});  // broadcast over the heads
  b.initializer("c", scalar<float>(3.0f));  // not a power of 2: Div and Mul by 1/3 differ
  std::string s = "s";
  b.node("MatMul", {"q", "kt"}, {s}, {}, "att/qk");
  if (c.scale == Scale::kDiv) {
    b.node("Div", {s, "c"}, {"scaled"}, {}, "att/div");
    s = "scaled";
  } else if (c.scale == Scale::kMulLeft) {
    b.node("Mul", {"c", s}, {"scaled"}, {}, "att/mul");
    s = "scaled";
  } else if (c.scale == Scale::kFedMul) {
    b.input("fed_scale", DataType::kFloat, {1});
    b.node("Mul", {s, "fed_scale"}, {"scaled"}, {}, "att/mul");
    s = "scaled";
  }
  if (!c.mask.empty() && c.mask_op == MaskOp::kAdd) {
    b.input("mask", DataType::kFloat, c.mask);
    b.node("Add", {s, "mask"}, {"masked"}, {}, "att/mask");
    s = "masked";
  } else if (!c.mask.empty()) {
    b.input("mask", DataType::kBool, c.mask);
    std::string fill = "fill";
    if (c.mask_op == MaskOp::kWhereFedFill) {
      b.input("fed_fill", DataType::kFloat, {});
      fill = "fed_fill";
    } else {
      b.initializer("fill", scalar<float>(-std::numeric_limits<float>::infinity()));
    }
    const bool keeps = c.mask_op == MaskOp::kWhereKeeps;
    b.node("Where", {"mask", keeps ? s : fill, keeps ? fill : s}, {"masked"}, {}, "att/mask");
    s = "masked";
  }
  b.node("Softmax", {s}, {"p"}, {{"axis", int_attr(c.softmax_axis)}}, "att/softmax");
  b.node("MatMul", {"p", "v"}, {"y"}, {}, "att/pv");
  b.output("y");
  if (c.scores_are_output) b.output(s);
  return b.build();
}

std::vector<NamedTensor> feeds(const AttGraph& c) {
  std::vector<NamedTensor> f = {{"q", random_tensor({kBatch, kHeads, kSeq, kDim}, 1, -2.f, 2.f)},
                                {"kt", random_tensor({kBatch, kHeads, kDim, kKv}, 2, -2.f, 2.f)},
                                {"v", random_tensor({kBatch, 1, kKv, kDim}, 3)}};
  if (!c.mask.empty() && c.mask_op == MaskOp::kAdd) {
    Tensor mask = random_tensor(c.mask, 4, -1.f, 1.f);
    mask.data<float>()[1] = -std::numeric_limits<float>::infinity();  // a masked-out position
    f.push_back({"mask", std::move(mask)});
  } else if (!c.mask.empty()) {
    // Causal: key j visible to query i when j <= i + 2 (every row keeps some keys).
    Tensor mask = Tensor::allocate(DataType::kBool, c.mask);
    const int64_t rows = c.mask[c.mask.size() - 2], cols = c.mask.back();
    for (int64_t e = 0; e < mask.num_elements(); ++e) {
      const bool visible = e % cols <= (e / cols) % rows + 2;
      mask.data<bool>()[e] = c.mask_op == MaskOp::kWhereKeeps ? visible : !visible;
    }
    f.push_back({"mask", std::move(mask)});
    if (c.mask_op == MaskOp::kWhereFedFill) f.push_back({"fed_fill", scalar<float>(-1e9f)});
  }
  if (c.scale == Scale::kFedMul) f.push_back({"fed_scale", make_tensor<float>({1}, {0.125f})});
  return f;
}

// The fused graph's output is the chain's, bit for bit.
void expect_fused_equals_chain(const Graph& chain, const Graph& fused, const AttGraph& c) {
  auto want = run_graph(chain, feeds(c), 0), got = run_graph(fused, feeds(c), 0);
  ASSERT_EQ(want.size(), 1u);
  ASSERT_EQ(got.size(), 1u);
  expect_close(got[0].tensor, want[0].tensor, {.atol = 0, .rtol = 0}, "y");
}

TEST(FuseAttention, DivAndMaskBecomeOneNode) {
  const AttGraph c;
  const Graph chain = build_attention(c);
  Graph g = chain;
  auto lines = run_pass(g, make_fuse_attention());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "fused MatMul, Div, Add, Softmax, MatMul ending in 'att/pv' into com.onnx_mini.FusedAttention");
  EXPECT_EQ(g.num_live_nodes(), 1u);
  const Node& att = g.node(g.value(g.find_value("y")).producer);
  EXPECT_EQ(att.op_type, "FusedAttention");
  EXPECT_EQ(att.inputs.size(), 4u);
  EXPECT_EQ(att.attrs.get_float("scale", 0).value(), 3.0f);
  EXPECT_EQ(att.attrs.get_int("scale_divides", 0).value(), 1);
  expect_fused_equals_chain(chain, g, c);
}

TEST(FuseAttention, OptionalScaleAndMaskForms) {
  AttGraph mul_left;
  mul_left.scale = Scale::kMulLeft;
  AttGraph bare;
  bare.scale = Scale::kNone;
  bare.mask = {};
  AttGraph row_mask;  // one mask row for every query, per batch: [batch, 1, 1, kv]
  row_mask.mask = {kBatch, 1, 1, kKv};
  AttGraph old_opset;  // Softmax-11 with the last axis written positively
  old_opset.opset = 11;
  old_opset.softmax_axis = 3;
  for (const AttGraph& c : {mul_left, bare, row_mask, old_opset}) {
    const Graph chain = build_attention(c);
    Graph g = chain;
    ASSERT_EQ(run_pass(g, make_fuse_attention()).size(), 1u);
    EXPECT_EQ(count_ops(g, "FusedAttention"), 1);
    EXPECT_EQ(g.num_live_nodes(), 1u);
    expect_fused_equals_chain(chain, g, c);
  }
}

TEST(FuseAttention, WhereMaskEitherWayRound) {
  for (MaskOp op : {MaskOp::kWhereFills, MaskOp::kWhereKeeps}) {
    AttGraph c;
    c.mask_op = op;
    const Graph chain = build_attention(c);
    Graph g = chain;
    auto lines = run_pass(g, make_fuse_attention());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "fused MatMul, Div, Where, Softmax, MatMul ending in 'att/pv' into com.onnx_mini.FusedAttention");
    EXPECT_EQ(g.num_live_nodes(), 1u);
    const Node& att = g.node(g.value(g.find_value("y")).producer);
    EXPECT_EQ(att.attrs.get_int("mask_keeps", -1).value(), op == MaskOp::kWhereKeeps ? 1 : 0);
    EXPECT_EQ(att.attrs.get_float("mask_fill", 0).value(), -std::numeric_limits<float>::infinity());
    expect_fused_equals_chain(chain, g, c);

    Graph expanded = g;  // and back
    auto back = run_pass(expanded, make_expand_fused_ops());
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0], "expanded FusedAttention 'att/pv' into MatMul Div Where Softmax MatMul");
    expect_fused_equals_chain(expanded, g, c);
  }
}

TEST(FuseAttention, WholeSessionOnAndOff) {
  const AttGraph c;
  const Graph g = build_attention(c);
  auto off = run_graph(g, feeds(c), 0), on = run_graph(g, feeds(c), 1);
  ASSERT_EQ(off.size(), 1u);
  ASSERT_EQ(on.size(), 1u);
  expect_close(on[0].tensor, off[0].tensor, {.atol = 0, .rtol = 0}, "y");
}

TEST(FuseAttention, NegativeCases) {
  AttGraph other_axis;
  other_axis.softmax_axis = 2;
  AttGraph fed_scale;
  fed_scale.scale = Scale::kFedMul;
  AttGraph scores_out;
  scores_out.scores_are_output = true;
  AttGraph fed_fill;
  fed_fill.mask_op = MaskOp::kWhereFedFill;
  for (const AttGraph& c : {other_axis, fed_scale, scores_out, fed_fill}) {
    Graph g = build_attention(c);
    EXPECT_TRUE(run_pass(g, make_fuse_attention()).empty());
    EXPECT_EQ(count_ops(g, "FusedAttention"), 0);
  }
}

TEST(FuseAttention, MaskThatAddsRowsFusesToo) {
  // Scores with one query row (M = 1) and a mask of kSeq rows: the Add grows
  // the scores to kSeq rows, and so does the kernel.
  GraphBuilder b(13);
  b.input("q", DataType::kFloat, {1, 1, kDim});
  b.input("kt", DataType::kFloat, {1, kDim, kKv});
  b.input("v", DataType::kFloat, {1, kKv, kDim});
  b.input("mask", DataType::kFloat, {kSeq, kKv});
  b.node("MatMul", {"q", "kt"}, {"s"}, {}, "qk");
  b.node("Add", {"s", "mask"}, {"masked"}, {}, "mask");
  b.node("Softmax", {"masked"}, {"p"}, {}, "softmax");
  b.node("MatMul", {"p", "v"}, {"y"}, {}, "pv");
  b.output("y");
  const Graph chain = b.build();
  Graph g = chain;
  ASSERT_EQ(run_pass(g, make_fuse_attention()).size(), 1u);
  const std::vector<NamedTensor> in = {{"q", random_tensor({1, 1, kDim}, 1)},
                                       {"kt", random_tensor({1, kDim, kKv}, 2)},
                                       {"v", random_tensor({1, kKv, kDim}, 3)},
                                       {"mask", random_tensor({kSeq, kKv}, 4)}};
  auto want = run_graph(chain, in, 0), got = run_graph(g, in, 0);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(got[0].tensor.shape(), (Shape{1, kSeq, kDim}));
  expect_close(got[0].tensor, want[0].tensor, {.atol = 0, .rtol = 0}, "y");
}

TEST(FuseAttention, ExpansionGivesTheChainBack) {
  const AttGraph c;
  Graph g = build_attention(c);
  ASSERT_EQ(run_pass(g, make_fuse_attention()).size(), 1u);
  Graph expanded = g;
  auto lines = run_pass(expanded, make_expand_fused_ops());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "expanded FusedAttention 'att/pv' into MatMul Div Add Softmax MatMul");
  EXPECT_EQ(count_ops(expanded, "FusedAttention"), 0);
  expect_fused_equals_chain(expanded, g, c);
}

}  // namespace
}  // namespace onnx_mini::testing
