// Conv and FusedConv against the double-precision reference of
// conv_reference.h: 1-D, 2-D and 3-D; strides, dilations, asymmetric pads,
// every auto_pad; groups, depthwise (with and without a channel multiplier);
// with and without bias; sizes around every tiling boundary of the kernels
// (row tiles of 8..12 channels, panels of 32 channels or pixels, blocks of 96
// pixels, depth chunks); constant and fed weights; every epilogue activation
// and the skip input Z. Every test runs twice: with the AVX-512 kernels (packed
// and depthwise) and with them turned off (ONNX_MINI_PACKED_GEMM=0), so the
// OpenBLAS im2col path other CPUs take stays tested here.
#include <cmath>
#include <functional>
#include <limits>

#include "tests/ops/conv_node.h"
#include "tests/ops/conv_reference.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

class ConvKernel : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { setenv("ONNX_MINI_PACKED_GEMM", GetParam() ? "1" : "0", 1); }
  void TearDown() override { unsetenv("ONNX_MINI_PACKED_GEMM"); }
};

struct Epilogue {
  std::string activation;  // "" for a plain Conv
  std::vector<std::pair<std::string, float>> params = {};
  std::function<double(double)> fn = [](double v) { return v; };
  bool z = false;  // FusedConv's skip input
};

std::map<std::string, Attribute> conv_attrs(const ConvCase& c) {
  std::map<std::string, Attribute> a = {{"group", int_attr(c.group)}, {"auto_pad", string_attr(c.auto_pad)}};
  if (!c.strides.empty()) a["strides"] = ints_attr(c.strides);
  if (!c.dilations.empty()) a["dilations"] = ints_attr(c.dilations);
  if (!c.pads.empty()) a["pads"] = ints_attr(c.pads);
  return a;
}

std::string describe_case(const ConvCase& c) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + ",";
    return "[" + s + "]";
  };
  return "x=" + list(c.x) + " M=" + std::to_string(c.out_channels) + " k=" + list(c.kernel) + " s=" + list(c.strides) +
         " d=" + list(c.dilations) + " p=" + list(c.pads) + " g=" + std::to_string(c.group) + " " + c.auto_pad;
}

// Runs the case through a session (-O0, so the node runs as built) and
// compares with the reference, `runs` times with a new X each time (so a
// kernel that kept anything of X from one run to the next would fail).
// Threads: the session's default (every CPU).
void check(const ConvCase& c, bool constant_w, const Epilogue& e = {}, int threads = 0, int runs = 1) {
  SCOPED_TRACE(describe_case(c) + (constant_w ? " constant W" : " fed W") + " act=" + e.activation +
               (e.z ? " +Z" : ""));
  const Tensor w = random_tensor(c.w_shape(), 22);
  const Tensor b = random_tensor({c.out_channels}, 23);
  const Tensor z = random_tensor(c.y_shape(), 24);
  const bool fused = !e.activation.empty() || e.z;
  GraphBuilder gb;
  gb.input("X", DataType::kFloat, c.x);
  std::vector<NamedTensor> feeds = {{"X", Tensor()}};
  if (constant_w) {
    gb.initializer("W", w);
  } else {
    gb.input("W", DataType::kFloat, w.shape());
    feeds.push_back({"W", w});
  }
  std::vector<std::string> inputs = {"X", "W", c.bias ? "B" : ""};
  if (c.bias) gb.initializer("B", b);
  if (e.z) {
    gb.input("Z", DataType::kFloat, z.shape());
    feeds.push_back({"Z", z});
    inputs.push_back("Z");
  }
  std::map<std::string, Attribute> attrs = conv_attrs(c);
  if (fused) {
    attrs["activation"] = string_attr(e.activation);
    for (const auto& [name, v] : e.params) attrs["activation_" + name] = float_attr(v);
  }
  gb.node(fused ? "FusedConv" : "Conv", inputs, {"Y"}, attrs, "conv", fused ? kOnnxMiniDomain : "");
  gb.output("Y");
  SessionOptions opts;
  opts.opt_level = 0;
  opts.threads = threads;
  auto session = Session::from_graph(gb.build(), opts);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  int64_t k = c.x[1] / c.group;
  for (int64_t kd : c.kernel) k *= kd;
  for (int run = 0; run < runs; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    const Tensor x = random_tensor(c.x, 21 + 100 * static_cast<uint64_t>(run));
    feeds[0].tensor = x;
    auto out = session.value()->run(feeds);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    const Tensor want = reference_conv(c, x, w, c.bias ? &b : nullptr, e.z ? &z : nullptr, e.fn);
    // Float sums of k products of values in [-1, 1), in another order than the
    // reference's: the rounding grows like sqrt(k) * 2^-24 * sum |x w|; 1e-5 * k
    // bounds it with a wide margin at these sizes (as the GEMM tests do).
    expect_close(out.value()[0].tensor, want, {.atol = 1e-5 * static_cast<double>(k) + 1e-6, .rtol = 1e-5});
  }
}

void check_both(const ConvCase& c, const Epilogue& e = {}) {
  check(c, true, e);
  check(c, false, e);
}

// The first output of `g` from a session on `threads` threads, as floats;
// empty, with a failure recorded, when the session cannot be built or run.
std::vector<float> first_output(const Graph& g, const std::vector<NamedTensor>& feeds, int threads, int opt_level) {
  SessionOptions opts;
  opts.threads = threads;
  opts.opt_level = opt_level;
  auto s = Session::from_graph(g, opts);
  if (!s.is_ok()) {
    ADD_FAILURE() << s.status().message();
    return {};
  }
  auto out = s.value()->run(feeds);
  if (!out.is_ok()) {
    ADD_FAILURE() << out.status().message();
    return {};
  }
  return values_of<float>(out.value()[0].tensor);
}

TEST_P(ConvKernel, TwoDimensionalAttributes) {
  check_both({.x = {1, 3, 7, 9}, .out_channels = 4, .kernel = {3, 3}});
  check_both({.x = {2, 3, 7, 9}, .out_channels = 5, .kernel = {3, 3}, .pads = {1, 1, 1, 1}});
  check_both({.x = {1, 2, 9, 8}, .out_channels = 3, .kernel = {3, 2}, .strides = {2, 3}, .pads = {0, 2, 1, 0}});
  check_both({.x = {1, 2, 9, 10}, .out_channels = 3, .kernel = {3, 3}, .dilations = {2, 3}, .pads = {2, 1, 0, 3}});
  check_both({.x = {1, 2, 6, 7}, .out_channels = 2, .kernel = {2, 3}, .strides = {2, 2}, .bias = false});
  for (const char* pad : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    check_both({.x = {1, 3, 8, 7}, .out_channels = 4, .kernel = {3, 2}, .strides = {2, 3}, .auto_pad = pad});
    check_both({.x = {1, 2, 5, 9}, .out_channels = 3, .kernel = {4, 4}, .dilations = {1, 2}, .auto_pad = pad});
  }
}

TEST_P(ConvKernel, OneAndThreeDimensions) {
  check_both({.x = {2, 3, 17}, .out_channels = 5, .kernel = {3}, .pads = {1, 2}});
  check_both({.x = {1, 4, 40}, .out_channels = 6, .kernel = {5}, .strides = {2}, .dilations = {2}, .auto_pad = "SAME_UPPER"});
  check_both({.x = {1, 4, 33}, .out_channels = 7, .kernel = {1}});  // 1-D pointwise
  check_both({.x = {1, 2, 5, 6, 7}, .out_channels = 3, .kernel = {3, 2, 3}, .pads = {1, 0, 1, 1, 1, 0}});
  check_both({.x = {2, 2, 6, 5, 4}, .out_channels = 4, .kernel = {2, 2, 2}, .strides = {2, 1, 2}, .dilations = {1, 2, 1}});
  check_both({.x = {1, 4, 3, 4, 5}, .out_channels = 6, .kernel = {1, 1, 1}, .group = 2});
}

TEST_P(ConvKernel, Groups) {
  check_both({.x = {2, 6, 7, 8}, .out_channels = 9, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 3});
  check_both({.x = {1, 4, 9, 9}, .out_channels = 4, .kernel = {1, 1}, .group = 2});
  // Depthwise: one input and one output channel per group.
  check_both({.x = {2, 5, 9, 21}, .out_channels = 5, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 5});
  check_both({.x = {1, 3, 17, 37}, .out_channels = 3, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .group = 3});
  check_both({.x = {1, 3, 11, 40}, .out_channels = 3, .kernel = {5, 3}, .strides = {3, 3}, .dilations = {1, 2},
              .pads = {2, 0, 1, 4}, .group = 3});
  check_both({.x = {1, 4, 12, 12}, .out_channels = 4, .kernel = {3, 3}, .group = 4, .auto_pad = "SAME_LOWER", .bias = false});
  check_both({.x = {1, 4, 30}, .out_channels = 4, .kernel = {3}, .strides = {2}, .pads = {1, 1}, .group = 4});
  check_both({.x = {1, 3, 4, 5, 6}, .out_channels = 3, .kernel = {3, 3, 3}, .pads = {1, 1, 1, 1, 1, 1}, .group = 3});
  // Channel multiplier 2: two output channels per input channel.
  check_both({.x = {1, 3, 8, 8}, .out_channels = 6, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 3});
}

// The depthwise 3x3 loop (ops/conv_depthwise_3x3.h): output widths below one
// vector, around one and two vectors (16 lanes) and MobileNet's; stride 2 on
// odd and even inputs (the 32 values split per input row, the value after
// them); no, asymmetric and wide padding (chunks whose taps lie partly or
// wholly in it); vertical strides other than the horizontal one; images of one
// and two rows (every kernel row but one in the padding); a row wider than the
// loop takes (1024 output columns), which runs on the general kernel.
TEST_P(ConvKernel, DepthwiseThreeByThree) {
  for (int64_t width : {1, 2, 5, 15, 16, 17, 18, 31, 32, 33, 34, 47, 56, 112}) {
    for (int64_t stride : {1, 2}) {
      check_both({.x = {1, 3, 6, width}, .out_channels = 3, .kernel = {3, 3}, .strides = {stride, stride},
                  .pads = {1, 1, 1, 1}, .group = 3});
    }
  }
  for (int64_t width : {7, 13, 35, 49, 65}) {
    check_both({.x = {2, 2, 5, width}, .out_channels = 2, .kernel = {3, 3}, .strides = {2, 2}, .group = 2});
    check_both({.x = {1, 2, 9, width}, .out_channels = 2, .kernel = {3, 3}, .strides = {2, 2}, .pads = {0, 1, 2, 0},
                .group = 2});
  }
  check_both({.x = {1, 4, 8, 20}, .out_channels = 4, .kernel = {3, 3}, .pads = {3, 3, 3, 3}, .group = 4});
  check_both({.x = {1, 4, 8, 40}, .out_channels = 4, .kernel = {3, 3}, .strides = {2, 2}, .pads = {2, 4, 3, 5}, .group = 4});
  check_both({.x = {1, 3, 9, 30}, .out_channels = 3, .kernel = {3, 3}, .strides = {3, 2}, .pads = {1, 1, 1, 1}, .group = 3});
  check_both({.x = {1, 3, 9, 30}, .out_channels = 3, .kernel = {3, 3}, .strides = {2, 1}, .pads = {0, 1, 1, 0}, .group = 3});
  check_both({.x = {1, 3, 9, 21}, .out_channels = 3, .kernel = {3, 3}, .group = 3, .auto_pad = "SAME_UPPER"});
  for (int64_t height : {1, 2}) {
    check_both({.x = {1, 3, height, 19}, .out_channels = 3, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 3});
  }
  check_both({.x = {1, 2, 3, 1030}, .out_channels = 2, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 2});
}

// Sizes around the kernels' tiling: output channels around the row tiles
// (8..12) and 32-channel panels, pixels around 32-pixel panels and 96-pixel
// blocks, reductions longer than a depth chunk (192 / 256). The 1x1 cases on
// 1, 25 and 36 pixels run on the gathered form (the pointwise one would waste
// over 15 % of its lanes there), the others on the pointwise form.
TEST_P(ConvKernel, TilingBoundaries) {
  for (int64_t m : {1, 7, 13, 31, 33, 64, 70}) {
    check_both({.x = {1, 5, 7, 7}, .out_channels = m, .kernel = {3, 3}, .pads = {1, 1, 1, 1}});
    check_both({.x = {2, 6, 5, 13}, .out_channels = m, .kernel = {1, 1}});
  }
  for (int64_t side : {1, 5, 6, 10, 11, 17}) {
    check_both({.x = {1, 4, side, side}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}});
    check_both({.x = {1, 4, side, side}, .out_channels = 40, .kernel = {1, 1}});
  }
  check_both({.x = {1, 300, 5, 6}, .out_channels = 20, .kernel = {1, 1}});     // depth 300 > 256
  check_both({.x = {1, 30, 6, 7}, .out_channels = 36, .kernel = {3, 3}});      // depth 270 > 192
  check_both({.x = {2, 16, 14, 14}, .out_channels = 48, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}});
  check_both({.x = {1, 3, 23, 23}, .out_channels = 16, .kernel = {7, 7}, .strides = {2, 2}, .pads = {3, 3, 3, 3}});
  check_both({.x = {1, 8, 9, 9}, .out_channels = 16, .kernel = {1, 1}, .strides = {2, 2}});
}

// The zero-bordered copy of X on two threads. At batch 1 each thread pads the
// rows its own units read (own_padded_rows in ops/conv_packed.cc): asymmetric
// pads on both axes, strides, dilations, a 5x3 kernel, 3-D (whose rows are
// (depth, height) pairs), 1-D, groups, and small images whose units split W's
// panels (256 x 14 x 14, 64 x 13 x 13), so a thread pads the whole image. At
// batch 2 and 3 one copy padded image by image before the units. Each session
// runs twice with a new X: a row a thread left from the first run, or one
// past the rows it padded, would give the second run's sums wrong values.
TEST_P(ConvKernel, PaddedCopySplitOverThreads) {
  const std::vector<ConvCase> cases = {
      {.x = {1, 8, 30, 30}, .out_channels = 20, .kernel = {3, 3}, .pads = {2, 1, 0, 3}},
      {.x = {1, 8, 20, 21}, .out_channels = 9, .kernel = {3, 3}, .strides = {2, 1}, .pads = {1, 1, 1, 1}},
      {.x = {3, 8, 20, 21}, .out_channels = 9, .kernel = {3, 3}, .strides = {2, 1}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 25, 27}, .out_channels = 12, .kernel = {3, 3}, .dilations = {3, 2}, .pads = {3, 2, 3, 2}},
      {.x = {1, 8, 31, 33}, .out_channels = 7, .kernel = {5, 3}, .pads = {0, 2, 4, 1}},
      {.x = {2, 8, 31, 33}, .out_channels = 7, .kernel = {5, 3}, .strides = {2, 2}, .pads = {0, 2, 4, 1}},
      {.x = {1, 8, 6, 12, 12}, .out_channels = 5, .kernel = {3, 3, 3}, .pads = {1, 0, 2, 0, 1, 1}},
      {.x = {1, 8, 1000}, .out_channels = 6, .kernel = {5}, .pads = {2, 3}},
      {.x = {1, 16, 24, 24}, .out_channels = 12, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 4},
      {.x = {1, 256, 14, 14}, .out_channels = 8, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 64, 13, 13}, .out_channels = 8, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
  };
  for (const ConvCase& c : cases) {
    for (int threads : {2, 1}) check(c, true, {}, threads, 2);
  }
}

// A 1x1 convolution's pixels copied into panels by two threads (from 8 K
// floats): stride 2 (ResNet-18's downsample at 28x28, 14 K floats) and stride 1
// with 128+ outputs (12 K floats). Two threads first, as above.
TEST_P(ConvKernel, PixelPanelsSplitOverThreads) {
  for (const ConvCase& c : {ConvCase{.x = {1, 64, 28, 28}, .out_channels = 20, .kernel = {1, 1}, .strides = {2, 2}},
                            ConvCase{.x = {1, 64, 13, 13}, .out_channels = 130, .kernel = {1, 1}}}) {
    for (int threads : {2, 1}) check(c, true, {}, threads);
  }
}

// A 1x1 weight larger than L2 (over 256 K floats per depth chunk) runs in
// blocks of up to 128 K floats of X, each row tile of W along a whole block:
// here one block of two panels per image (35 pixels), batch 2. (The
// double-precision reference takes up to ~5 ns per multiply-add in a Release
// build and many times that under the sanitizers: SqueezeNet's 13x13
// classifier itself, 87 M of them, would take seconds there.)
TEST_P(ConvKernel, PointwiseWeightLargerThanL2) {
  for (int threads : {1, 2}) check({.x = {2, 512, 5, 7}, .out_channels = 520, .kernel = {1, 1}}, true, {}, threads);
}

// A 1x1 convolution on an image too small to give 2 threads their own pixel
// blocks, whose depth is at least 4 times its outputs, splits the depth in 2
// (ops/conv_packed.cc, splits_depth): on 2 threads the parts run at once into Y
// and a partial sum, added before the epilogue; on 1 thread they are the two
// depth chunks of the usual path. Both against the reference, with bias, skip
// and activations (ReLU in registers, Sigmoid after the sum), and the same bits
// on 1 and 2 threads. Shapes: MobileNetV2's 14x14 projection (192 + 192; no
// epilogue against the reference, whose double sums are most of this test's
// time under the sanitizers), and at
// batch 2 parts of 112 + 88 channels with every epilogue.
TEST_P(ConvKernel, PointwiseDepthSplit) {
  const ConvCase projection{.x = {1, 384, 14, 14}, .out_channels = 64, .kernel = {1, 1}};
  const ConvCase uneven{.x = {2, 200, 10, 10}, .out_channels = 48, .kernel = {1, 1}};
  std::vector<Epilogue> epilogues = {{}};
  for (const ConvActivation& a : fused_activations()) {
    if (a.name == "Relu" || a.name == "Sigmoid") epilogues.push_back({a.name, a.params, a.fn, true});
  }
  ASSERT_EQ(epilogues.size(), 3u);
  for (int threads : {1, 2}) {
    check(projection, true, {}, threads);
    for (const Epilogue& e : epilogues) check(uneven, true, e, threads);
  }
  for (const ConvCase& c : {projection, uneven}) {
    // FusedConv with bias, skip and ReLU: the same bits on 1 and 2 threads.
    GraphBuilder gb;
    gb.input("X", DataType::kFloat, c.x);
    gb.input("Z", DataType::kFloat, c.y_shape());
    gb.initializer("W", random_tensor(c.w_shape(), 6));
    gb.initializer("B", random_tensor({c.out_channels}, 7));
    std::map<std::string, Attribute> attrs = conv_attrs(c);
    attrs["activation"] = string_attr("Relu");
    gb.node("FusedConv", {"X", "W", "B", "Z"}, {"Y"}, attrs, "conv", kOnnxMiniDomain);
    gb.output("Y");
    const Graph g = gb.build();
    const std::vector<NamedTensor> feeds = {{"X", random_tensor(c.x, 5)}, {"Z", random_tensor(c.y_shape(), 8)}};
    const std::vector<float> one = first_output(g, feeds, 1, 0);
    ASSERT_FALSE(one.empty());
    EXPECT_EQ(one, first_output(g, feeds, 2, 0)) << describe_case(c);
  }
}

// Every activation the epilogue applies, with non-default parameters, and the
// skip input with and without one. Formulas from the ONNX spec.
TEST_P(ConvKernel, FusedEpilogues) {
  std::vector<Epilogue> epilogues;
  for (const ConvActivation& a : fused_activations()) epilogues.push_back({a.name, a.params, a.fn});
  const std::vector<ConvCase> shapes = {
      {.x = {1, 6, 9, 10}, .out_channels = 35, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},   // gathered
      {.x = {2, 7, 6, 7}, .out_channels = 13, .kernel = {1, 1}},                          // pointwise
      {.x = {2, 20, 7, 7}, .out_channels = 40, .kernel = {1, 1}},  // 1x1 on a 7x7 image: gathered
      {.x = {1, 6, 9, 20}, .out_channels = 6, .kernel = {3, 3}, .strides = {2, 1}, .pads = {1, 1, 1, 1}, .group = 6},
      {.x = {1, 5, 7, 37}, .out_channels = 5, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}, .group = 5},
  };
  for (const ConvCase& c : shapes) {
    for (Epilogue e : epilogues) {
      check(c, true, e);
      e.z = true;
      check(c, true, e);
    }
    check(c, true, Epilogue{.activation = "", .z = true});  // Z alone, no activation
  }
}

// A session with one thread and one with two give the same bits: the work is
// split, never the sums.
// X with the case's padding of its two spatial axes written out as zeros, and
// the case with none: the same convolution of the same values.
std::pair<Tensor, ConvCase> padded_explicitly(const ConvCase& c, const Tensor& x) {
  int64_t begin[2], end[2];
  for (int i = 0; i < 2; ++i) {
    int64_t out, pb;
    c.axis(i, &out, &pb);
    const int64_t in = c.x[static_cast<size_t>(i) + 2], dk = (c.kernel[static_cast<size_t>(i)] - 1) * c.dilation(i) + 1;
    begin[i] = pb;
    end[i] = std::max<int64_t>(0, (out - 1) * c.stride(i) + dk - in - pb);
  }
  const int64_t n = c.x[0], ch = c.x[1], h = c.x[2], w = c.x[3];
  const int64_t ph = h + begin[0] + end[0], pw = w + begin[1] + end[1];
  std::vector<float> values(static_cast<size_t>(n * ch * ph * pw), 0.0f);
  const std::vector<float> src = values_of<float>(x);
  for (int64_t p = 0; p < n * ch; ++p) {
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t q = 0; q < w; ++q) {
        values[static_cast<size_t>((p * ph + r + begin[0]) * pw + q + begin[1])] =
            src[static_cast<size_t>((p * h + r) * w + q)];
      }
    }
  }
  ConvCase unpadded = c;
  unpadded.x = {n, ch, ph, pw};
  unpadded.pads = {};
  unpadded.auto_pad = "NOTSET";
  return {make_tensor<float>({n, ch, ph, pw}, values), unpadded};
}

// The gathered form leaves out the kernel rows of a tile's pixels that lie in
// the padding above or below the image (ops/conv_packed.cc): the same
// convolution on X padded beforehand, where every tap is taken, must give the
// same bits (the products left out are zeros; the chunks of the sum are the
// same). First and last rows of 13, 27 and 55 pixels (12 skipping + the rest),
// depths over a chunk (576 = 3 x 192), images of 1, 2 and 3 rows and of two
// wide rows (no row takes every tap), kernels of 5 rows (two kinds of rows at
// each end), dilation, strides, rows wholly in the padding, asymmetric and
// SAME padding, groups, two images, on one thread and two.
TEST_P(ConvKernel, PaddingTapsLeftOutChangeNoBit) {
  const std::vector<ConvCase> cases = {
      {.x = {1, 64, 13, 13}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 16, 55, 55}, .out_channels = 64, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 32, 27, 27}, .out_channels = 33, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 1, 1}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 2, 2}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 3, 3}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 8, 2, 100}, .out_channels = 20, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
      {.x = {1, 6, 9, 10}, .out_channels = 7, .kernel = {5, 5}, .pads = {2, 2, 2, 2}},
      {.x = {1, 4, 11, 12}, .out_channels = 9, .kernel = {3, 3}, .dilations = {2, 1}, .pads = {2, 1, 2, 1}},
      {.x = {1, 4, 12, 12}, .out_channels = 9, .kernel = {3, 3}, .strides = {2, 2}, .pads = {1, 1, 1, 1}},
      {.x = {1, 4, 8, 20}, .out_channels = 5, .kernel = {3, 3}, .pads = {3, 0, 4, 0}},
      {.x = {1, 5, 10, 9}, .out_channels = 6, .kernel = {4, 3}, .pads = {0, 1, 3, 1}},
      {.x = {1, 4, 9, 9}, .out_channels = 6, .kernel = {4, 4}, .auto_pad = "SAME_UPPER"},
      {.x = {1, 6, 7, 8}, .out_channels = 9, .kernel = {3, 3}, .pads = {1, 1, 1, 1}, .group = 3},
      {.x = {2, 8, 14, 14}, .out_channels = 12, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(describe_case(c));
    const Tensor x = random_tensor(c.x, 31), w = random_tensor(c.w_shape(), 32);
    const auto [padded_x, unpadded] = padded_explicitly(c, x);
    auto graph = [&w](const ConvCase& cc) {
      GraphBuilder gb;
      gb.input("X", DataType::kFloat, cc.x);
      gb.initializer("W", w);
      gb.node("Conv", {"X", "W"}, {"Y"}, conv_attrs(cc));
      gb.output("Y");
      return gb.build();
    };
    for (int threads : {1, 2}) {
      const std::vector<float> skipping = first_output(graph(c), {{"X", x}}, threads, 0);
      ASSERT_FALSE(skipping.empty());
      EXPECT_EQ(skipping, first_output(graph(unpadded), {{"X", padded_x}}, threads, 0)) << threads << " threads";
    }
  }
}

// 0 x Inf on the padding is NaN (the ONNX reference multiplies the padding's
// zeros): with an infinite weight in the first kernel row, the first output
// row is NaN in that channel, and no tap is left out.
TEST_P(ConvKernel, AnInfiniteWeightOnThePaddingStillGivesNaN) {
  const ConvCase c{.x = {1, 16, 13, 13}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}};
  Tensor w = random_tensor(c.w_shape(), 32);
  w.data<float>()[1] = std::numeric_limits<float>::infinity();  // output channel 0, input channel 0, kernel row 0
  GraphBuilder gb;
  gb.input("X", DataType::kFloat, c.x);
  gb.initializer("W", w);
  gb.node("Conv", {"X", "W"}, {"Y"}, conv_attrs(c));
  gb.output("Y");
  const std::vector<float> y = first_output(gb.build(), {{"X", random_tensor(c.x, 31)}}, 1, 0);
  ASSERT_EQ(y.size(), 40u * 13 * 13);
  for (int64_t q = 0; q < 13; ++q) EXPECT_TRUE(std::isnan(y[static_cast<size_t>(q)])) << "column " << q;
  EXPECT_FALSE(std::isnan(y[13 * 13]));  // output channel 1
}

TEST_P(ConvKernel, ThreadCountDoesNotChangeResults) {
  for (const ConvCase& c : {ConvCase{.x = {2, 8, 12, 12}, .out_channels = 40, .kernel = {3, 3}, .pads = {1, 1, 1, 1}},
                            ConvCase{.x = {1, 24, 7, 7}, .out_channels = 70, .kernel = {1, 1}}}) {
    const Tensor x = random_tensor(c.x, 5);
    GraphBuilder gb;
    gb.input("X", DataType::kFloat, c.x);
    gb.initializer("W", random_tensor(c.w_shape(), 6));
    gb.node("Conv", {"X", "W"}, {"Y"}, conv_attrs(c));
    gb.output("Y");
    const Graph g = gb.build();
    const std::vector<float> one = first_output(g, {{"X", x}}, 1, 1);
    ASSERT_FALSE(one.empty());
    EXPECT_EQ(one, first_output(g, {{"X", x}}, 2, 1));
  }
}

INSTANTIATE_TEST_SUITE_P(PackedAndFallback, ConvKernel, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Packed" : "OpenBlas"; });

}  // namespace
}  // namespace onnx_mini::testing
