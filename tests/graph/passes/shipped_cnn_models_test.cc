// The convolution rewrites on the PyTorch-exported CNNs of models/cnn: each
// model optimised with the default passes (verification after every pass),
// the rewrites it must get counted from the explain lines, and the op counts
// before and after. That the optimised models still match PyTorch is CTest's
// models.cnn.* (passes on) and models_O0.cnn.* (passes off).
#include <map>

#include "graph/onnx_loader.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct Optimized {
  Graph graph;
  std::vector<std::string> explain;
};

Graph load_shipped(const std::string& name) {
  auto loaded = load_onnx_file(std::string(ONNX_MINI_SOURCE_DIR) + "/models/cnn/" + name + "/model.onnx");
  EXPECT_TRUE(loaded.is_ok()) << name << ": " << loaded.status().message();
  return loaded.is_ok() ? std::move(loaded).value() : Graph{};
}

Optimized optimize_shipped(const std::string& name) {
  Optimized o{load_shipped(name), {}};
  PassContext ctx;
  ctx.verify_each = true;
  ctx.log = [&o](const std::string& line) { o.explain.push_back(line); };
  Status s = optimize_graph(o.graph, ctx);
  EXPECT_TRUE(s.is_ok()) << name << ": " << s.message();
  return o;
}

// How many explain lines start with `prefix` and contain `part` (empty: any).
int lines_with(const std::vector<std::string>& lines, const std::string& prefix, const std::string& part = "") {
  int n = 0;
  for (const std::string& l : lines) {
    if (l.rfind(prefix, 0) == 0 && l.find(part) != std::string::npos) ++n;
  }
  return n;
}

void expect_op_counts(const Graph& g, const std::map<std::string, int>& counts, const std::string& when) {
  for (const auto& [op, n] : counts) EXPECT_EQ(count_ops(g, op), n) << op << " " << when;
}

TEST(ShippedCnnModels, LeNetConvReluAndGemmReluFuse) {
  expect_op_counts(load_shipped("lenet5"), {{"Conv", 2}, {"Relu", 4}, {"Gemm", 3}}, "as exported");
  Optimized o = optimize_shipped("lenet5");
  EXPECT_EQ(lines_with(o.explain, "fused Relu", "into Conv"), 2);
  EXPECT_EQ(lines_with(o.explain, "fused Relu", "into FusedGemm"), 2);
  expect_op_counts(o.graph, {{"Conv", 0}, {"FusedConv", 2}, {"Relu", 0}, {"MaxPool", 2}, {"FusedGemm", 3}},
                   "after the passes");
}

TEST(ShippedCnnModels, ResNetBatchNormsFoldAndResidualAddsFuse) {
  // Exported with training=PRESERVE: all six BatchNormalization nodes are in the file.
  expect_op_counts(load_shipped("small_resnet_bn"), {{"BatchNormalization", 6}, {"Conv", 6}, {"Add", 2}},
                   "as exported");
  Optimized o = optimize_shipped("small_resnet_bn");
  EXPECT_EQ(lines_with(o.explain, "folded BatchNormalization", "into Conv"), 6);
  EXPECT_EQ(lines_with(o.explain, "fused Add"), 2);
  // Stem, both first convs, and the two block outputs (after their residual Add).
  EXPECT_EQ(lines_with(o.explain, "fused Relu"), 5);
  // layer2's second conv feeds the residual Add of the stride-2 shortcut conv
  // (which absorbs Add and Relu), so it stays a plain Conv with the folded bias.
  expect_op_counts(o.graph, {{"BatchNormalization", 0}, {"Add", 0}, {"Relu", 0}, {"FusedConv", 5}, {"Conv", 1}},
                   "after the passes");
}

TEST(ShippedCnnModels, DepthwiseBlocksFuseReluSixHardswishAndSkip) {
  // Opset 13 spells Hardswish as x * HardSigmoid(x); opset 14 has the HardSwish op.
  for (const std::string name : {"depthwise_separable", "depthwise_separable_opset14"}) {
    SCOPED_TRACE(name);
    Optimized o = optimize_shipped(name);
    EXPECT_EQ(lines_with(o.explain, "fused Clip", "into Conv"), 4);  // ReLU6 after expand and depthwise
    EXPECT_EQ(lines_with(o.explain, "fused Add"), 2);
    const int hardswish = name == "depthwise_separable" ? lines_with(o.explain, "fused HardSigmoid", "(as HardSwish)")
                                                        : lines_with(o.explain, "fused HardSwish", "into Conv");
    EXPECT_EQ(hardswish, 3);
    expect_op_counts(o.graph,
                     {{"Clip", 0}, {"HardSigmoid", 0}, {"HardSwish", 0}, {"Mul", 0}, {"Add", 0}, {"Conv", 1},
                      {"FusedConv", 9}, {"FusedGemm", 1}},
                     "after the passes");
  }
}

TEST(ShippedCnnModels, TextCnnConv1dReluFuses) {
  Optimized o = optimize_shipped("text_cnn1d");
  EXPECT_EQ(lines_with(o.explain, "fused Relu", "into Conv"), 2);
  expect_op_counts(o.graph, {{"Conv", 0}, {"FusedConv", 2}, {"Relu", 0}, {"Gather", 1}, {"ReduceMax", 1}},
                   "after the passes");
}

TEST(ShippedCnnModels, AutoencoderEncoderFusesAndConvTransposeStays) {
  Optimized o = optimize_shipped("conv_autoencoder");
  EXPECT_EQ(lines_with(o.explain, "fused Relu", "into Conv"), 2);
  // No fused ConvTranspose exists: its Relu and the final Sigmoid stay nodes.
  expect_op_counts(o.graph, {{"FusedConv", 2}, {"ConvTranspose", 2}, {"Relu", 1}, {"Sigmoid", 1}},
                   "after the passes");
}

}  // namespace
}  // namespace onnx_mini::testing
