// CropConvKernel: a Conv whose kernel overhangs a small input on every output
// pixel keeps only the kernel positions some output reads inside the input,
// with pads that keep every output reading the same inputs. Each case checks
// the new kernel_shape, pads and weight (the original's slice), and that the
// cropped graph computes what the original does without passes; the cases that
// must not crop (every kernel position read by some output, a symbolic
// spatial size, a fed weight, VALID padding, a dropped weight that is not
// finite) keep the node. SAME padding is made explicit, then cropped.
#include <cmath>
#include <limits>
#include <map>

#include "tests/testutil/attribute_values.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

struct CropCase {
  Shape x, w;
  std::vector<int64_t> pads, strides = {}, dilations = {};  // empty: the defaults
  int64_t group = 1;
};

GraphBuilder conv_graph(const CropCase& c) {
  GraphBuilder b(17);
  b.input("X", DataType::kFloat, c.x).initializer("W", random_tensor(c.w, 1)).initializer("B", random_tensor({c.w[0]}, 2));
  std::map<std::string, Attribute> attrs = {{"pads", ints_attr(c.pads)}};
  if (!c.strides.empty()) attrs["strides"] = ints_attr(c.strides);
  if (!c.dilations.empty()) attrs["dilations"] = ints_attr(c.dilations);
  if (c.group != 1) attrs["group"] = int_attr(c.group);
  b.node("Conv", {"X", "W", "B"}, {"Y"}, attrs, "conv1");
  b.output("Y");
  return b;
}

const Node& only_conv(const Graph& g) {
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (!n.removed && n.op_type == "Conv") return n;
  }
  ADD_FAILURE() << "no Conv left";
  return g.node(0);
}

// The weight's values at `keep`'s offsets from each [M, C] kernel's start, in order.
std::vector<float> slice_of(const Tensor& w, const std::vector<int64_t>& keep) {
  const int64_t kernels = w.dim(0) * w.dim(1), per = w.num_elements() / kernels;
  std::vector<float> out;
  for (int64_t k = 0; k < kernels; ++k) {
    for (int64_t at : keep) out.push_back(w.data<float>()[k * per + at]);
  }
  return out;
}

// Crops `c` to `kernel` with `pads`, the weight to the positions `keep` of each
// kernel; the output is the original's (both without passes, each Y a sum of
// at most C / group x kernel products of values in [-1, 1]: the kernels sum the
// kept products in another order, a few ulps of that sum, bounded by 1e-5 per
// product).
void check_crop(const CropCase& c, const std::string& from, const std::string& to, const std::vector<int64_t>& kernel,
                const std::vector<int64_t>& pads, const std::vector<int64_t>& keep) {
  Graph g = conv_graph(c).build();
  const Graph original = g;
  const auto lines = run_pass(g, make_crop_conv_kernel());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "cropped Conv 'conv1' kernel " + from + " -> " + to +
                          ": the other taps read only padding on its input");
  const Node& conv = only_conv(g);
  EXPECT_EQ(conv.attrs.get_ints("kernel_shape").value(), kernel);
  EXPECT_EQ(conv.attrs.get_ints("pads").value(), pads);
  const Tensor* w = g.constant_value(conv.inputs[1]);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(values_of<float>(*w), slice_of(*original.constant_value(only_conv(original).inputs[1]), keep));
  const std::vector<NamedTensor> feeds = {{"X", random_tensor(c.x, 3)}};
  double products = 1;  // per output: C / group x the uncropped kernel
  for (size_t i = 1; i < c.w.size(); ++i) products *= static_cast<double>(c.w[i]);
  const std::vector<NamedTensor> want = run_graph(original, feeds, 0), got = run_graph(g, feeds, 0);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(want.size(), 1u);
  expect_close(got[0].tensor, want[0].tensor, {.atol = 1e-5 * products, .rtol = 1e-5});
  expect_same_with_and_without_passes(original, feeds, {.atol = 1e-5 * products, .rtol = 1e-5});
}

TEST(CropConvKernel, OneByOneInputKeepsTheCentreTap) {
  // ResNet-18's last stage on a 32x32 image: 3x3, padding 1, on a 1x1 input.
  check_crop({.x = {2, 8, 1, 1}, .w = {6, 8, 3, 3}, .pads = {1, 1, 1, 1}}, "3x3", "1x1", {1, 1}, {0, 0, 0, 0}, {4});
}

TEST(CropConvKernel, StrideTwoOnTwoByTwoKeepsTheLowerRightTwoByTwo) {
  // The one output reads input rows and columns -1, 0, 1: kernel rows and columns 1 and 2.
  check_crop({.x = {1, 4, 2, 2}, .w = {5, 4, 3, 3}, .pads = {1, 1, 1, 1}, .strides = {2, 2}}, "3x3", "2x2", {2, 2},
             {0, 0, 0, 0}, {4, 5, 7, 8});
}

TEST(CropConvKernel, OneDimensionalWithTwoOutputs) {
  // Length 2, kernel 5, pads 2: output 0 reads inputs -2..2 (positions 2, 3 inside),
  // output 1 reads -1..3 (positions 1, 2): positions 1..3 kept, pads 1 and 1.
  check_crop({.x = {1, 3, 2}, .w = {4, 3, 5}, .pads = {2, 2}}, "5", "3", {3}, {1, 1}, {1, 2, 3});
}

TEST(CropConvKernel, AsymmetricPadsAndOneAxisOnly) {
  // Height 1, pads 1 above and 2 below: two output rows, reading input rows
  // -1..1 and 0..2, so kernel rows 1 and 0 reach row 0 and row 2 never does:
  // kernel rows 0..1, pads 1 and 1 (still two outputs). Width 4 keeps all 3.
  check_crop({.x = {1, 2, 1, 4}, .w = {3, 2, 3, 3}, .pads = {1, 1, 2, 1}}, "3x3", "2x3", {2, 3}, {1, 1, 1, 1},
             {0, 1, 2, 3, 4, 5});
}

TEST(CropConvKernel, DilationKeepsOnlyTheReachedPosition) {
  // Dilation 2, pads 2, 1x1 input: only the centre lands on the input.
  check_crop({.x = {1, 3, 1, 1}, .w = {2, 3, 3, 3}, .pads = {2, 2, 2, 2}, .dilations = {2, 2}}, "3x3", "1x1", {1, 1},
             {0, 0, 0, 0}, {4});
}

TEST(CropConvKernel, DepthwiseBecomesAPerChannelScale) {
  check_crop({.x = {2, 6, 1, 1}, .w = {6, 1, 3, 3}, .pads = {1, 1, 1, 1}, .group = 6}, "3x3", "1x1", {1, 1},
             {0, 0, 0, 0}, {4});
}

TEST(CropConvKernel, ThreeDimensionalCropsTheShallowAxis) {
  check_crop({.x = {1, 2, 1, 3, 3}, .w = {3, 2, 3, 3, 3}, .pads = {1, 1, 1, 1, 1, 1}}, "3x3x3", "1x3x3", {1, 3, 3},
             {0, 1, 1, 0, 1, 1}, {9, 10, 11, 12, 13, 14, 15, 16, 17});
}

// The pass leaves the node alone; with passes on and off the graph computes the same.
void expect_no_crop(GraphBuilder b, const std::vector<NamedTensor>& feeds) {
  Graph g = b.build();
  const Graph original = g;
  EXPECT_TRUE(run_pass(g, make_crop_conv_kernel()).empty());
  EXPECT_EQ(only_conv(g).inputs[1], only_conv(original).inputs[1]);
  // Every case below: 8 input channels, 3x3, so 72 products per output (1e-5 each, as check_crop).
  expect_same_with_and_without_passes(original, feeds, {.atol = 1e-5 * 9 * 8, .rtol = 1e-5});
}

TEST(CropConvKernel, KernelEveryPositionOfWhichSomeOutputReadsStays) {
  // 3x3, padding 1, on 4x4: the corner outputs overhang, the middle ones do not.
  const CropCase c{.x = {1, 8, 4, 4}, .w = {4, 8, 3, 3}, .pads = {1, 1, 1, 1}};
  expect_no_crop(conv_graph(c), {{"X", random_tensor(c.x, 3)}});
}

TEST(CropConvKernel, SymbolicSpatialSizeStays) {
  GraphBuilder b(17);
  b.input_symbolic("X", {Dim{1, ""}, Dim{8, ""}, Dim{-1, "H"}, Dim{1, ""}});
  b.initializer("W", random_tensor({4, 8, 3, 3}, 1));
  b.node("Conv", {"X", "W"}, {"Y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "conv1");
  b.output("Y");
  expect_no_crop(std::move(b), {{"X", random_tensor({1, 8, 1, 1}, 3)}});
}

TEST(CropConvKernel, FedWeightStays) {
  GraphBuilder b(17);
  b.input("X", DataType::kFloat, {1, 8, 1, 1}).input("W", DataType::kFloat, {4, 8, 3, 3});
  b.node("Conv", {"X", "W"}, {"Y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "conv1");
  b.output("Y");
  expect_no_crop(std::move(b), {{"X", random_tensor({1, 8, 1, 1}, 3)}, {"W", random_tensor({4, 8, 3, 3}, 1)}});
}

TEST(CropConvKernel, SamePaddingIsMadeExplicitThenCropped) {
  // 3x3 at stride 2 on 2x2: one output, one padded row and column in all. SAME_UPPER puts it
  // after (the output reads rows and columns 0..2: kernel positions 0 and 1 stay), SAME_LOWER
  // before (-1..1: positions 1 and 2).
  for (const auto& [mode, keep] : {std::pair<std::string, std::vector<int64_t>>{"SAME_UPPER", {0, 1, 3, 4}},
                                   {"SAME_LOWER", {4, 5, 7, 8}}}) {
    SCOPED_TRACE(mode);
    GraphBuilder b(17);
    b.input("X", DataType::kFloat, {1, 4, 2, 2}).initializer("W", random_tensor({5, 4, 3, 3}, 1));
    b.node("Conv", {"X", "W"}, {"Y"}, {{"auto_pad", string_attr(mode)}, {"strides", ints_attr({2, 2})}}, "conv1");
    b.output("Y");
    Graph g = b.build();
    const Graph original = g;
    ASSERT_EQ(run_pass(g, make_crop_conv_kernel()).size(), 1u);
    const Node& conv = only_conv(g);
    EXPECT_FALSE(conv.attrs.has("auto_pad"));
    EXPECT_EQ(conv.attrs.get_ints("kernel_shape").value(), (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(conv.attrs.get_ints("pads").value(), (std::vector<int64_t>{0, 0, 0, 0}));
    EXPECT_EQ(values_of<float>(*g.constant_value(conv.inputs[1])),
              slice_of(*original.constant_value(only_conv(original).inputs[1]), keep));
    const std::vector<NamedTensor> feeds = {{"X", random_tensor({1, 4, 2, 2}, 3)}};
    const std::vector<NamedTensor> want = run_graph(original, feeds, 0), got = run_graph(g, feeds, 0);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(want.size(), 1u);
    expect_close(got[0].tensor, want[0].tensor, {.atol = 1e-5 * 36, .rtol = 1e-5});  // 4 x 9 products
  }
}

TEST(CropConvKernel, ValidPaddingStays) {
  GraphBuilder b(17);
  b.input("X", DataType::kFloat, {1, 8, 3, 3}).initializer("W", random_tensor({4, 8, 3, 3}, 1));
  b.node("Conv", {"X", "W"}, {"Y"}, {{"auto_pad", string_attr("VALID")}}, "conv1");
  b.output("Y");
  expect_no_crop(std::move(b), {{"X", random_tensor({1, 8, 3, 3}, 3)}});
}

TEST(CropConvKernel, NonFiniteDroppedWeightStaysAndStillGivesNaN) {
  // 0 x Inf on the padding is NaN: dropping the tap would hide it.
  Tensor w = random_tensor({4, 8, 3, 3}, 1);
  w.data<float>()[0] = std::numeric_limits<float>::infinity();  // kernel 0's corner: a dropped tap
  GraphBuilder b(17);
  b.input("X", DataType::kFloat, {1, 8, 1, 1}).initializer("W", w);
  b.node("Conv", {"X", "W"}, {"Y"}, {{"pads", ints_attr({1, 1, 1, 1})}}, "conv1");
  b.output("Y");
  const std::vector<NamedTensor> feeds = {{"X", random_tensor({1, 8, 1, 1}, 3)}};
  Graph g = b.build();
  EXPECT_TRUE(run_pass(g, make_crop_conv_kernel()).empty());
  const std::vector<NamedTensor> out = run_graph(g, feeds, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(std::isnan(out[0].tensor.data<float>()[0]));  // output channel 0
  EXPECT_FALSE(std::isnan(out[0].tensor.data<float>()[1]));
}

}  // namespace
}  // namespace onnx_mini::testing
