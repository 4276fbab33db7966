// 1x1 convolutions on the packed kernel's pointwise form (ops/conv_packed.h)
// against the double-precision reference of conv_reference.h, over the choices
// that form makes: X read in place (fewer than 512 output channels per group)
// or copied into pixel panels (ops/conv_pixel_panels.h: 512 or more, or any
// stride); output images of 1..529 pixels, 49 (7x7), 169 (13x13) and 196
// (14x14) among them, with X's spatial sizes symbolic at load (then the
// pointwise form runs whatever the size) and known (then small images go to
// the gathered form); strides 2 and 3 on odd and even sizes, in 1-D, 2-D and
// 3-D; output channels that are no multiple of the 8..12-row tiles or of 32;
// depths above a chunk; batch 1..3 on 1 and 2 threads; every epilogue; NaN and
// +-Inf in X.
#include <cmath>
#include <limits>

#include "ops/packed_gemm.h"
#include "tests/ops/conv_node.h"

namespace onnx_mini::testing {
namespace {

using ConvRun = ConvNodeRun;

std::string describe(const ConvCase& c, const ConvRun& r) {
  std::string s = "x=";
  for (int64_t d : c.x) s += std::to_string(d) + ",";
  s += " M=" + std::to_string(c.out_channels) + " g=" + std::to_string(c.group) + " s=";
  for (int64_t d : c.strides) s += std::to_string(d) + ",";
  return s + " " + c.auto_pad + (r.symbolic ? " symbolic" : "") + " threads=" + std::to_string(r.threads) +
         " act=" + r.act.name + (r.z ? " +Z" : "");
}

// Runs the case and compares with the reference; `poison` edits X first.
void check(const ConvCase& c, const ConvRun& r = {}, const std::function<void(Tensor&)>& poison = nullptr) {
  SCOPED_TRACE(describe(c, r));
  Tensor x = random_tensor(c.x, 31);
  if (poison) poison(x);
  const Tensor w = random_tensor(c.w_shape(), 32), b = random_tensor({c.out_channels}, 33);
  const Tensor z = random_tensor(c.y_shape(), 34);
  const Tensor got = run_conv_node(c, r, x, w, b, z);
  if (!got.defined()) return;
  // Float sums of Cg products of values in [-1, 1) in another order than the
  // reference's: the rounding grows like sqrt(Cg) * 2^-24 * sum |x w|; 1e-5 * Cg
  // bounds it with a wide margin (as tests/ops/conv_test.cc).
  const double k = static_cast<double>(c.x[1] / c.group);
  expect_close(got, reference_conv(c, x, w, &b, r.z ? &z : nullptr, r.act.fn), {.atol = 1e-5 * k + 1e-6, .rtol = 1e-5});
}

class ConvPointwise : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "the pointwise form runs on the AVX-512F packed kernel only";
  }
};

// Output images of 1..529 pixels: whole panels, one pixel more or fewer, the
// 16-lane last vector, MobileNetV2's 7x7 and 14x14, SqueezeNet's 13x13.
const std::vector<std::pair<int64_t, int64_t>> kPixelCountSides = {
    {1, 1},   {1, 13},  {1, 16}, {1, 17}, {1, 31}, {1, 32}, {1, 33}, {7, 7}, {4, 16}, {8, 12}, {1, 97},
    {13, 13}, {14, 14}, {10, 20}, {1, 48}, {1, 49}, {1, 63}, {1, 64}, {1, 65}, {1, 95}, {1, 96}};

// In place, 13 output channels take 8-row tiles and 48-pixel calls: every
// width of the last call (1 to 48 pixels), and 23x23 two blocks (384 pixels,
// then 145).
TEST_F(ConvPointwise, PixelCountsInPlace) {
  std::vector<std::pair<int64_t, int64_t>> sides = kPixelCountSides;
  sides.push_back({23, 23});
  for (const auto& [h, w] : sides) {
    for (bool symbolic : {false, true}) {
      check({.x = {2, 37, h, w}, .out_channels = 13, .kernel = {1, 1}}, {.symbolic = symbolic});
    }
  }
}

// Copied into pixel panels (520 output channels): the panels' last pixels.
// One image (BatchesAndThreads runs several through the copy): the reference
// for 520 channels in double made this the suite's longest test under the
// sanitizers (226 s of CI's 55-minute run with two images and a 23x23 case).
TEST_F(ConvPointwise, PixelCountsCopied) {
  for (const auto& [h, w] : kPixelCountSides) {
    for (bool symbolic : {false, true}) {
      check({.x = {1, 37, h, w}, .out_channels = 520, .kernel = {1, 1}}, {.symbolic = symbolic});
    }
  }
}

TEST_F(ConvPointwise, Strides) {
  const std::vector<ConvCase> cases = {
      {.x = {2, 19, 15, 9}, .out_channels = 130, .kernel = {1, 1}, .strides = {2, 2}},
      {.x = {1, 8, 28, 28}, .out_channels = 40, .kernel = {1, 1}, .strides = {2, 2}},
      {.x = {1, 16, 14, 14}, .out_channels = 36, .kernel = {1, 1}, .strides = {2, 2}},  // 7x7 out
      {.x = {1, 5, 14, 14}, .out_channels = 20, .kernel = {1, 1}, .strides = {2, 3}},
      {.x = {1, 6, 13, 17}, .out_channels = 9, .kernel = {1, 1}, .strides = {3, 1}},
      {.x = {1, 6, 13, 40}, .out_channels = 9, .kernel = {1, 1}, .strides = {1, 3}},
      {.x = {2, 7, 40}, .out_channels = 11, .kernel = {1}, .strides = {2}},
      {.x = {1, 4, 5, 6, 7}, .out_channels = 13, .kernel = {1, 1, 1}, .strides = {2, 2, 2}},
      {.x = {1, 8, 9, 9}, .out_channels = 256, .kernel = {1, 1}, .strides = {2, 2}, .group = 2},
      {.x = {1, 6, 7, 9}, .out_channels = 10, .kernel = {1, 1}, .strides = {2, 2}, .auto_pad = "SAME_UPPER"},
      {.x = {1, 6, 8, 9}, .out_channels = 10, .kernel = {1, 1}, .strides = {2, 2}, .auto_pad = "VALID"},
  };
  for (const ConvCase& c : cases) {
    for (bool symbolic : {false, true}) check(c, {.symbolic = symbolic});
  }
}

// Output channels around the row tiles and panels, with the copy and without;
// depth above a chunk (512: an 8x8 image, or a 9x9 one whose size is unknown at
// load, so that the pointwise form runs rather than the gathered one); groups
// whose channels take the copy.
TEST_F(ConvPointwise, ChannelsAndDepth) {
  for (int64_t m : {1, 7, 12, 31, 33, 127, 128, 129, 140, 511, 512, 513}) check({.x = {1, 21, 6, 6}, .out_channels = m, .kernel = {1, 1}}, {.symbolic = true});
  check({.x = {1, 600, 8, 8}, .out_channels = 520, .kernel = {1, 1}});
  check({.x = {1, 600, 9, 9}, .out_channels = 20, .kernel = {1, 1}}, {.symbolic = true});
  check({.x = {2, 10, 8, 8}, .out_channels = 260, .kernel = {1, 1}, .group = 2});
}

TEST_F(ConvPointwise, BatchesAndThreads) {
  for (int64_t batch : {1, 2, 3}) {
    for (int threads : {1, 2}) {
      check({.x = {batch, 24, 13, 13}, .out_channels = 520, .kernel = {1, 1}}, {.threads = threads});
      check({.x = {batch, 16, 14, 14}, .out_channels = 132, .kernel = {1, 1}, .strides = {2, 2}}, {.threads = threads});
      check({.x = {batch, 40, 7, 7}, .out_channels = 150, .kernel = {1, 1}}, {.symbolic = true, .threads = threads});
    }
  }
}

// Every epilogue on the copied and the strided pointwise form: the register
// ones (ReLU, Clip) and those applied to the finished tile, with the skip
// input Z and without.
TEST_F(ConvPointwise, Epilogues) {
  std::vector<ConvRun> runs = {{}};
  for (const ConvActivation& a : fused_activations()) runs.push_back({.act = a});
  const std::vector<ConvCase> cases = {
      {.x = {2, 9, 11, 13}, .out_channels = 520, .kernel = {1, 1}},
      {.x = {2, 9, 11, 13}, .out_channels = 30, .kernel = {1, 1}, .strides = {2, 2}},
  };
  for (const ConvCase& c : cases) {
    for (ConvRun r : runs) {
      for (bool z : {false, true}) {
        r.z = z;
        if (r.act.name.empty() && !z) continue;  // a plain Conv: the other tests
        check(c, r);
      }
    }
  }
}

// NaN and +-Inf in X reach exactly the outputs the reference gives them (a
// pixel's NaN every channel of that pixel, Inf times weights of both signs NaN
// or +-Inf), through the copy, the stride and a ReLU that must keep NaN.
TEST_F(ConvPointwise, NanAndInfinity) {
  const auto poison = [](Tensor& x) {
    float* v = x.data<float>();
    const int64_t n = x.num_elements();
    v[0] = std::numeric_limits<float>::quiet_NaN();
    v[n / 3] = std::numeric_limits<float>::infinity();
    v[n / 2 + 2] = -std::numeric_limits<float>::infinity();
    v[n - 1] = std::numeric_limits<float>::quiet_NaN();
  };
  const ConvRun relu = {.act = {"Relu", {}, [](double v) { return v < 0 ? 0 : v; }}};
  for (const ConvRun& r : {ConvRun{}, relu}) {
    check({.x = {2, 5, 9, 10}, .out_channels = 520, .kernel = {1, 1}}, r, poison);
    check({.x = {2, 5, 9, 10}, .out_channels = 20, .kernel = {1, 1}}, r, poison);
    check({.x = {1, 5, 10, 10}, .out_channels = 20, .kernel = {1, 1}, .strides = {2, 2}}, r, poison);
  }
}

// One thread and two give the same bits on the copied and strided forms, and
// in place with 48-pixel calls: over two blocks (23x23), and with the depth
// split in two parts (256 -> 16 at 14x14: 128-channel parts in 3-panel blocks).
TEST_F(ConvPointwise, ThreadCountDoesNotChangeResults) {
  for (const ConvCase& c : {ConvCase{.x = {1, 24, 13, 13}, .out_channels = 520, .kernel = {1, 1}},
                            ConvCase{.x = {1, 24, 28, 28}, .out_channels = 64, .kernel = {1, 1}, .strides = {2, 2}},
                            ConvCase{.x = {1, 37, 23, 23}, .out_channels = 13, .kernel = {1, 1}},
                            ConvCase{.x = {1, 256, 14, 14}, .out_channels = 16, .kernel = {1, 1}}}) {
    SCOPED_TRACE(describe(c, {}));
    const Tensor x = random_tensor(c.x, 5), w = random_tensor(c.w_shape(), 6), b = random_tensor({c.out_channels}, 7);
    const Tensor one = run_conv_node(c, {.threads = 1}, x, w, b, Tensor()), two = run_conv_node(c, {.threads = 2}, x, w, b, Tensor());
    ASSERT_TRUE(one.defined() && two.defined());
    EXPECT_EQ(values_of<float>(one), values_of<float>(two));
  }
}

}  // namespace
}  // namespace onnx_mini::testing
