// The channel-blocked depthwise 3x3 form (ops/conv_depthwise_blocked.h)
// against the double-precision reference of conv_reference.h, through
// Conv / FusedConv sessions: every output width it takes (1..28) and the
// widths just past its crossover (run by the per-plane loop), strides 1, 2 and
// mixed, asymmetric and wide pads, channel counts around the 16-channel block,
// batches 1..9 (tasks take runs of images), every epilogue (in registers and
// not) with and without the skip input, one and two threads, NaN and +-Inf in
// the input. Then the per-plane loop's row pairs on wider planes.
#include <cmath>
#include <functional>
#include <limits>

#include "ops/conv_depthwise_blocked.h"
#include "tests/ops/conv_node.h"

namespace onnx_mini::testing {
namespace {

using Activation = ConvActivation;
using RunOptions = ConvNodeRun;

// A depthwise 3x3 case with `channels` channels (the group).
ConvCase depthwise(Shape x, std::vector<int64_t> strides, std::vector<int64_t> pads) {
  return ConvCase{.x = x, .out_channels = x[1], .kernel = {3, 3}, .strides = strides, .pads = pads, .group = x[1]};
}

std::string describe(const ConvCase& c, const RunOptions& r) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s;
    for (int64_t x : v) s += std::to_string(x) + ",";
    return "[" + s + "]";
  };
  return "x=" + list(c.x) + " s=" + list(c.strides) + " p=" + list(c.pads) + " act=" + r.act.name +
         (r.z ? " +Z" : "") + " threads=" + std::to_string(r.threads);
}

// Runs the case on x (seeded random when null) and compares with the reference.
void check(const ConvCase& c, const RunOptions& r = {}, const Tensor* x_given = nullptr) {
  SCOPED_TRACE(describe(c, r));
  const Tensor x = x_given ? x_given->clone() : random_tensor(c.x, 31);
  const Tensor w = random_tensor(c.w_shape(), 32), b = random_tensor({c.out_channels}, 33);
  const Tensor z = random_tensor(c.y_shape(), 34);
  const Tensor got = run_conv_node(c, r, x, w, b, z);
  const Tensor want = reference_conv(c, x, w, &b, r.z ? &z : nullptr, r.act.fn);
  // 9 products of values in [-1, 1) plus bias (and z) summed in float in
  // another order than the reference's: each rounding is at most 2^-24 of a
  // partial sum below 12, so 1e-5 absolute bounds the total with a wide
  // margin; rtol covers the activations' own faithful rounding.
  expect_close(got, want, {.atol = 1e-5, .rtol = 1e-5});
}

const std::vector<Activation>& activations() {
  static const std::vector<Activation> list = {
      {"Relu", {}, [](double v) { return v < 0 ? 0 : v; }},
      {"Clip", {{"min", -0.25f}, {"max", 0.5f}}, [](double v) { return std::min(std::max(v, -0.25), 0.5); }},
      {"LeakyRelu", {{"alpha", 0.2f}}, [](double v) { return v < 0 ? 0.2 * v : v; }},
      {"Sigmoid", {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"HardSwish", {}, [](double v) { return v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); }},
      {"Tanh", {}, [](double v) { return std::tanh(v); }},
  };
  return list;
}

// Every output width the blocked form runs and the first ones past it, both
// strides, pads on every side; 19 channels: one full block and a partial one.
TEST(DepthwiseBlocked, EveryWidthBothStrides) {
  for (int64_t width = 1; width <= 60; width += width < 32 ? 1 : 27) {
    for (int64_t stride : {1, 2}) check(depthwise({1, 19, 6, width}, {stride, stride}, {1, 1, 1, 1}));
  }
}

// Asymmetric, missing and wide pads (scratch rows and columns wholly in the
// padding, input columns and rows the output never reads), mixed and larger
// strides, images of one and two rows.
TEST(DepthwiseBlocked, PadsAndStrides) {
  check(depthwise({1, 17, 9, 11}, {1, 1}, {0, 2, 1, 0}));
  check(depthwise({1, 17, 9, 11}, {2, 2}, {2, 0, 0, 3}));
  check(depthwise({1, 17, 8, 10}, {2, 2}, {0, 0, 0, 0}));  // the last input row and column unread
  check(depthwise({1, 17, 7, 7}, {1, 1}, {3, 3, 3, 3}));   // output rows and columns of padding only
  check(depthwise({1, 17, 12, 9}, {2, 1}, {1, 1, 1, 1}));
  check(depthwise({1, 17, 9, 12}, {1, 2}, {1, 0, 1, 2}));
  check(depthwise({1, 17, 13, 13}, {3, 3}, {1, 1, 1, 1}));
  for (int64_t height : {1, 2}) check(depthwise({1, 17, height, 9}, {1, 1}, {1, 1, 1, 1}));
  // Rows of two runs (15 to 28 output pixels), each with its own edge columns.
  check(depthwise({1, 17, 9, 27}, {1, 1}, {0, 2, 1, 0}));
  check(depthwise({1, 17, 9, 28}, {2, 1}, {1, 0, 1, 2}));
  check(depthwise({1, 17, 5, 17}, {1, 1}, {2, 0, 0, 2}));
  // A left pad wider than the columns the output reads (loads start 9 pixel
  // vectors before a row of one).
  check(depthwise({1, 17, 3, 1}, {1, 4}, {1, 9, 1, 0}));
}

// Channel counts around the 16-channel block and batches 1..3 (tasks are
// (image, block) pairs: every image's blocks start at its own planes).
TEST(DepthwiseBlocked, ChannelsAndBatches) {
  for (int64_t channels : {1, 2, 15, 16, 17, 31, 32, 33, 48}) {
    for (int64_t batch : {1, 2, 3}) check(depthwise({batch, channels, 7, 7}, {1, 1}, {1, 1, 1, 1}));
  }
  check(depthwise({3, 40, 14, 14}, {2, 2}, {1, 1, 1, 1}));
}

// Batches 1..9 on one and two threads: a task is a block of channels in a
// run of images (runs of 1 to 5 images here, the last one shorter), with full
// and partial blocks, at both strides.
TEST(DepthwiseBlocked, RunsOfImages) {
  for (int64_t batch = 1; batch <= 9; ++batch) {
    for (int threads : {1, 2}) {
      for (int64_t channels : {16, 20, 48}) {
        check(depthwise({batch, channels, 7, 7}, {1, 1}, {1, 1, 1, 1}), RunOptions{.threads = threads});
      }
      check(depthwise({batch, 33, 14, 14}, {2, 2}, {1, 1, 1, 1}), RunOptions{.threads = threads});
    }
  }
}

// Every activation, with and without the skip input, on both strides, on rows
// of one run (14 wide) and of two (28 wide, stride 1).
TEST(DepthwiseBlocked, Epilogues) {
  for (int64_t stride : {1, 2, 0}) {
    const ConvCase c = stride == 0 ? depthwise({2, 20, 6, 28}, {1, 1}, {1, 1, 1, 1})
                                   : depthwise({2, 20, 14, 14}, {stride, stride}, {1, 1, 1, 1});
    check(c, RunOptions{.z = true});
    for (const Activation& a : activations()) {
      check(c, RunOptions{.act = a});
      check(c, RunOptions{.act = a, .z = true});
    }
  }
}

// Two threads split the (image, block) tasks: the same bits as one thread.
TEST(DepthwiseBlocked, TwoThreadsMatchOne) {
  for (const ConvCase& c : {depthwise({3, 40, 14, 14}, {1, 1}, {1, 1, 1, 1}),
                            depthwise({1, 70, 28, 28}, {2, 2}, {1, 1, 1, 1})}) {
    const Tensor x = random_tensor(c.x, 41), w = random_tensor(c.w_shape(), 42), b = random_tensor({c.x[1]}, 43);
    const Tensor one = run_conv_node(c, RunOptions{.act = activations()[1], .threads = 1}, x, w, b, {});
    const Tensor two = run_conv_node(c, RunOptions{.act = activations()[1], .threads = 2}, x, w, b, {});
    EXPECT_EQ(values_of<float>(one), values_of<float>(two)) << describe(c, {});
    check(c, RunOptions{.act = activations()[0], .threads = 2});
  }
}

// NaN and +-Inf in the input reach exactly the outputs whose window holds
// them (the padding is zeros, never multiplied into a NaN), as in the
// reference; the channels and pixels next to them stay finite.
TEST(DepthwiseBlocked, NanAndInfinityPropagate) {
  const ConvCase c = depthwise({2, 18, 7, 9}, {1, 1}, {1, 1, 1, 1});
  Tensor x = random_tensor(c.x, 51);
  float* v = x.data<float>();
  v[0] = std::numeric_limits<float>::quiet_NaN();                 // image 0, channel 0, corner
  v[3 * 63 + 4 * 9 + 8] = std::numeric_limits<float>::infinity();  // channel 3, right edge
  v[17 * 63 + 30] = -std::numeric_limits<float>::infinity();       // channel 17 (second block)
  v[(18 + 5) * 63 + 31] = std::numeric_limits<float>::infinity();  // image 1, channel 5: Inf and -Inf meet
  v[(18 + 5) * 63 + 32] = -std::numeric_limits<float>::infinity();
  check(c, {}, &x);
  check(c, RunOptions{.act = activations()[0]}, &x);
  check(depthwise({2, 18, 7, 9}, {2, 2}, {1, 1, 1, 1}), {}, &x);
}

// The per-plane loop's stride-1 row pairs (two output rows from four input
// rows, ops/conv_depthwise_3x3.cc) on planes wider than the blocked form
// takes: odd and even row counts (a pair or a single row last), pads that put
// one, two or no kernel rows outside at the top and bottom, every epilogue
// with and without the skip input, two threads.
TEST(DepthwisePerPlane, RowPairs) {
  for (int64_t height : {3, 4, 5, 6, 7, 8}) {
    check(depthwise({1, 3, height, 40}, {1, 1}, {1, 1, 1, 1}));
    check(depthwise({2, 3, height, 33}, {1, 1}, {0, 1, 2, 1}));
    check(depthwise({1, 2, height, 47}, {1, 1}, {2, 0, 0, 2}));
  }
  const ConvCase c = depthwise({2, 5, 9, 37}, {1, 1}, {1, 1, 1, 1});
  check(c, RunOptions{.z = true});
  for (const Activation& a : activations()) {
    check(c, RunOptions{.act = a});
    check(c, RunOptions{.act = a, .z = true, .threads = 2});
  }
}

// The crossover: which geometries the blocked form takes.
TEST(DepthwiseBlocked, AppliesToSmallThreeByThreeOnly) {
  auto geometry = [](Shape x, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                     std::vector<int64_t> dilations) {
    ConvAttributes a;
    a.group = x[1];
    a.kernel_shape = kernel;
    a.strides = strides;
    a.dilations = dilations;
    a.pads = {1, 1, 1, 1};
    Shape w = {x[1], 1};
    w.insert(w.end(), kernel.begin(), kernel.end());
    auto g = conv_geometry(a, x, w);
    EXPECT_TRUE(g.is_ok());
    return g.value();
  };
  EXPECT_TRUE(depthwise_blocked_applies(geometry({1, 960, 7, 7}, {3, 3}, {1, 1}, {1, 1})));
  EXPECT_TRUE(depthwise_blocked_applies(geometry({1, 192, 28, 28}, {3, 3}, {1, 1}, {1, 1})));
  EXPECT_TRUE(depthwise_blocked_applies(geometry({1, 192, 28, 28}, {3, 3}, {2, 2}, {1, 1})));
  EXPECT_FALSE(depthwise_blocked_applies(geometry({1, 144, 56, 56}, {3, 3}, {2, 2}, {1, 1})));
  EXPECT_FALSE(depthwise_blocked_applies(geometry({1, 144, 56, 56}, {3, 3}, {1, 1}, {1, 1})));
  EXPECT_FALSE(depthwise_blocked_applies(geometry({1, 32, 7, 7}, {5, 5}, {1, 1}, {1, 1})));
  EXPECT_FALSE(depthwise_blocked_applies(geometry({1, 32, 7, 7}, {3, 3}, {1, 1}, {2, 2})));
  EXPECT_FALSE(depthwise_blocked_applies(geometry({1, 32, 500, 7}, {3, 3}, {1, 1}, {1, 1})));  // scratch bound
}

}  // namespace
}  // namespace onnx_mini::testing
