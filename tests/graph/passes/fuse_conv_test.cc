// FuseConvAdd and FuseConvActivation: Conv -> Add(skip) -> Relu, Conv -> Clip
// (ReLU6), the x * HardSigmoid(x) pattern and the other epilogue activations
// become one FusedConv; op counts, explain lines, the same outputs with passes
// on and off, and the negative cases (second consumer, graph output in the
// middle, broadcasting Add, non-constant Clip bounds, other HardSigmoid
// parameters, unsupported attributes). FusedConv's expansion back to standard
// ops computes the same values.
#include "graph/passes/expand_fused_ops.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

const Shape kX = {2, 4, 6, 7};

// X -> Conv(W, B; 3x3, pads 1) -> "y", 5 output channels.
GraphBuilder conv_graph(int opset = 17) {
  GraphBuilder b(opset);
  b.input("X", DataType::kFloat, kX)
      .initializer("W", random_tensor({5, 4, 3, 3}, 1))
      .initializer("B", random_tensor({5}, 2));
  b.node("Conv", {"X", "W", "B"}, {"y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "conv1");
  return b;
}

// X, and the skip tensor S when the graph has one.
std::vector<NamedTensor> feeds(bool skip = false) {
  std::vector<NamedTensor> f = {{"X", random_tensor(kX, 3)}};
  if (skip) f.push_back({"S", random_tensor({2, 5, 6, 7}, 4)});
  return f;
}

const Node& producer_of(const Graph& g, const std::string& value) {
  return g.node(g.value(g.find_value(value)).producer);
}

std::vector<std::string> run_conv_fusions(Graph& g) {
  std::vector<std::string> lines = run_pass(g, make_fuse_conv_add());
  for (const std::string& l : run_pass(g, make_fuse_conv_activation())) lines.push_back(l);
  return lines;
}

TEST(FuseConvAdd, ResidualAddAndReluBecomeOneFusedConv) {
  GraphBuilder b = conv_graph();
  b.input("S", DataType::kFloat, {2, 5, 6, 7});
  b.node("Add", {"S", "y"}, {"sum"}, {}, "add1");
  b.node("Relu", {"sum"}, {"Y"}, {}, "relu1");
  b.output("Y");
  Graph g = b.build();
  const Graph original = g;
  auto lines = run_conv_fusions(g);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "fused Add 'add1' (skip 'S') into Conv 'conv1'");
  EXPECT_EQ(lines[1], "fused Relu 'relu1' into FusedConv 'conv1'");
  EXPECT_EQ(count_ops(g, "Conv") + count_ops(g, "Add") + count_ops(g, "Relu"), 0);
  ASSERT_EQ(count_ops(g, "FusedConv"), 1);
  const Node& fused = producer_of(g, "Y");
  EXPECT_EQ(fused.name, "conv1");
  EXPECT_EQ(fused.attrs.find("activation")->s, "Relu");
  ASSERT_EQ(fused.inputs.size(), 4u);
  EXPECT_EQ(g.value(fused.inputs[3]).name, "S");
  expect_same_with_and_without_passes(original, feeds(true));
}

TEST(FuseConvAdd, BroadcastingAddDoesNotFuse) {
  GraphBuilder b = conv_graph();
  b.initializer("S", random_tensor({1, 5, 1, 1}, 5));  // a per-channel shift, not a skip tensor
  b.node("Add", {"y", "S"}, {"Y"}, {}, "add1");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_conv_add()).empty());
  EXPECT_EQ(count_ops(g, "Add"), 1);
}

TEST(FuseConvAdd, ConvOutputReadTwiceDoesNotFuse) {
  GraphBuilder b = conv_graph();
  b.input("S", DataType::kFloat, {2, 5, 6, 7});
  b.node("Add", {"y", "S"}, {"sum"}, {}, "add1");
  b.node("Mul", {"sum", "y"}, {"Y"}, {}, "mul");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_conv_add()).empty());
}

TEST(FuseConvAdd, ConvOutputThatIsAGraphOutputDoesNotFuse) {
  GraphBuilder b = conv_graph();
  b.input("S", DataType::kFloat, {2, 5, 6, 7});
  b.node("Add", {"y", "S"}, {"Y"}, {}, "add1");
  b.output("y").output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_conv_add()).empty());
}

struct ActivationCase {
  std::string op;
  std::map<std::string, Attribute> attrs;
};

TEST(FuseConvActivation, EveryEpilogueActivationFusesAndComputesTheSame) {
  for (const ActivationCase& a : std::vector<ActivationCase>{
           {"Relu", {}},
           {"LeakyRelu", {{"alpha", float_attr(0.3f)}}},
           {"Sigmoid", {}},
           {"HardSigmoid", {{"alpha", float_attr(0.25f)}, {"beta", float_attr(0.4f)}}},
           {"HardSwish", {}},
           {"Tanh", {}},
           {"Elu", {{"alpha", float_attr(0.7f)}}}}) {
    SCOPED_TRACE(a.op);
    GraphBuilder b = conv_graph();
    b.node(a.op, {"y"}, {"Y"}, a.attrs, "act");
    b.output("Y");
    Graph g = b.build();
    const Graph original = g;
    auto lines = run_pass(g, make_fuse_conv_activation());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "fused " + a.op + " 'act' into Conv 'conv1'");
    EXPECT_EQ(count_ops(g, a.op), 0);
    EXPECT_EQ(producer_of(g, "Y").attrs.find("activation")->s, a.op);
    expect_same_with_and_without_passes(original, feeds());
  }
}

TEST(FuseConvActivation, ClipWithConstantBoundsIsReluSix) {
  // Clip-6 carries the bounds as attributes, Clip-11+ as inputs (max may be absent).
  for (int opset : {6, 11, 13}) {
    for (bool with_max : {true, false}) {
      SCOPED_TRACE("opset " + std::to_string(opset) + (with_max ? " min+max" : " min only"));
      GraphBuilder b = conv_graph(opset);
      if (opset < 11) {
        std::map<std::string, Attribute> attrs = {{"min", float_attr(0.0f)}};
        if (with_max) attrs["max"] = float_attr(0.5f);
        b.node("Clip", {"y"}, {"Y"}, attrs, "relu6");
      } else {
        b.initializer("lo", scalar(0.0f)).initializer("hi", scalar(0.5f));
        b.node("Clip", {"y", "lo", with_max ? "hi" : ""}, {"Y"}, {}, "relu6");
      }
      b.output("Y");
      Graph g = b.build();
      const Graph original = g;
      ASSERT_EQ(run_pass(g, make_fuse_conv_activation()).size(), 1u);
      const Node& fused = producer_of(g, "Y");
      EXPECT_EQ(fused.attrs.find("activation")->s, "Clip");
      EXPECT_EQ(fused.attrs.find("activation_min")->f, 0.0f);
      EXPECT_EQ(fused.attrs.has("activation_max"), with_max);
      expect_same_with_and_without_passes(original, feeds());
    }
  }
}

TEST(FuseConvActivation, ClipWithFedBoundsDoesNotFuse) {
  GraphBuilder b = conv_graph(13);
  b.input("lo", DataType::kFloat, {});
  b.node("Clip", {"y", "lo"}, {"Y"}, {}, "clip");
  b.output("Y");
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  EXPECT_EQ(count_ops(g, "Clip"), 1);
}

// torch 1.13 at opset 13 exports nn.Hardswish as x * HardSigmoid(x, 1/6, 1/2).
Graph hard_swish_pattern(float alpha, bool mul_reversed) {
  GraphBuilder b = conv_graph(13);
  b.node("HardSigmoid", {"y"}, {"gate"}, {{"alpha", float_attr(alpha)}, {"beta", float_attr(0.5f)}}, "hs");
  b.node("Mul", mul_reversed ? std::vector<std::string>{"gate", "y"} : std::vector<std::string>{"y", "gate"}, {"Y"}, {},
         "mul");
  b.output("Y");
  return b.build();
}

TEST(FuseConvActivation, TimesHardSigmoidPatternIsHardSwish) {
  for (bool reversed : {false, true}) {
    Graph g = hard_swish_pattern(1.0f / 6.0f, reversed);
    const Graph original = g;
    auto lines = run_pass(g, make_fuse_conv_activation());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "fused HardSigmoid 'hs' + Mul 'mul' into Conv 'conv1' (as HardSwish)");
    EXPECT_EQ(count_ops(g, "HardSigmoid") + count_ops(g, "Mul") + count_ops(g, "Conv"), 0);
    EXPECT_EQ(producer_of(g, "Y").attrs.find("activation")->s, "HardSwish");
    // HardSwish's x(x+3)/6 and x * (x/6 + 1/2) round differently in float.
    expect_same_with_and_without_passes(original, feeds());
  }
}

TEST(FuseConvActivation, OtherHardSigmoidParametersAreNotHardSwish) {
  Graph g = hard_swish_pattern(0.2f, false);
  EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  EXPECT_EQ(count_ops(g, "Mul"), 1);
}

TEST(FuseConvActivation, SecondConsumerOrGraphOutputDoesNotFuse) {
  {
    GraphBuilder b = conv_graph();
    b.node("Relu", {"y"}, {"Y"}, {}, "relu");
    b.node("Add", {"y", "Y"}, {"Z"}, {}, "add");
    b.output("Z");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  }
  {
    GraphBuilder b = conv_graph();
    b.node("Relu", {"y"}, {"Y"}, {}, "relu");
    b.output("y").output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  }
}

TEST(FuseConvActivation, UnknownConvAttributeOrActivationParameterDoesNotFuse) {
  {
    GraphBuilder b = conv_graph();
    b.node("Relu", {"y"}, {"Y"}, {}, "relu");
    b.output("Y");
    Graph g = b.build();
    g.node(g.value(g.find_value("y")).producer).attrs.set("foo", int_attr(1));
    EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  }
  {
    GraphBuilder b = conv_graph();
    b.node("Softmax", {"y"}, {"Y"}, {}, "softmax");  // not an epilogue activation
    b.output("Y");
    Graph g = b.build();
    EXPECT_TRUE(run_pass(g, make_fuse_conv_activation()).empty());
  }
}

TEST(FuseConvActivation, FedWeightStillFusesTheEpilogue) {
  // The epilogue does not depend on how the weight arrives (the fed weight
  // runs on the im2col path, with the same epilogue).
  GraphBuilder b;
  b.input("X", DataType::kFloat, kX).input("W", DataType::kFloat, {5, 4, 3, 3});
  b.node("Conv", {"X", "W"}, {"y"}, {}, "conv1");
  b.node("Relu", {"y"}, {"Y"}, {}, "relu");
  b.output("Y");
  Graph g = b.build();
  const Graph original = g;
  EXPECT_EQ(run_pass(g, make_fuse_conv_activation()).size(), 1u);
  expect_same_with_and_without_passes(original, {{"X", random_tensor(kX, 3)}, {"W", random_tensor({5, 4, 3, 3}, 9)}});
}

// FusedConv back to standard ops: Conv, Add, and the activation in its
// opset's form; the same outputs.
TEST(ExpandFusedConv, EveryFormExpandsToStandardOpsWithTheSameOutputs) {
  struct Case {
    int opset;
    std::string activation;
    std::map<std::string, Attribute> params;
    bool z;
    std::vector<std::string> ops;
  };
  const std::vector<Case> cases = {
      {17, "", {}, true, {"Conv", "Add"}},
      {17, "Relu", {}, true, {"Conv", "Add", "Relu"}},
      {17, "Clip", {{"activation_min", float_attr(0)}, {"activation_max", float_attr(6)}}, false, {"Conv", "Clip"}},
      {10, "Clip", {{"activation_min", float_attr(0)}, {"activation_max", float_attr(6)}}, false, {"Conv", "Clip"}},
      {13, "HardSwish", {}, false, {"Conv", "HardSigmoid", "Mul"}},
      {14, "HardSwish", {}, true, {"Conv", "Add", "HardSwish"}},
      {17, "LeakyRelu", {{"activation_alpha", float_attr(0.1f)}}, false, {"Conv", "LeakyRelu"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("opset " + std::to_string(c.opset) + " " + c.activation);
    GraphBuilder b(c.opset);
    b.input("X", DataType::kFloat, kX).initializer("W", random_tensor({5, 4, 3, 3}, 1));
    b.initializer("B", random_tensor({5}, 2)).input("S", DataType::kFloat, {2, 5, 6, 7});
    std::map<std::string, Attribute> attrs = c.params;
    attrs["activation"] = string_attr(c.activation);
    attrs["pads"] = ints_attr({1, 1, 1, 1});
    std::vector<std::string> inputs = {"X", "W", "B"};
    if (c.z) inputs.push_back("S");
    b.node("FusedConv", inputs, {"Y"}, attrs, "fc", kOnnxMiniDomain);
    b.output("Y");
    Graph g = b.build();
    Graph expanded = g;
    std::vector<std::string> lines = run_pass(expanded, make_expand_fused_ops());
    std::string want = "expanded FusedConv 'fc' into";
    for (const auto& op : c.ops) want += " " + op;
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], want);
    EXPECT_EQ(count_ops(expanded, "FusedConv"), 0);
    auto ref = run_graph(g, feeds(true), 0);
    auto got = run_graph(expanded, feeds(true), 0);
    ASSERT_EQ(ref.size(), got.size());
    // The same sums through Conv + Add + activation kernels: float32 rounding
    // of the separate passes (and HardSwish's two formulas) only.
    expect_close(got[0].tensor, ref[0].tensor, {.atol = 1e-5, .rtol = 1e-4});
  }
}

}  // namespace
}  // namespace onnx_mini::testing
