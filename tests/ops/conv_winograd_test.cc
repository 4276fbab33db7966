// WinogradConv (ops/conv_winograd.h), in both its forms (F(2x2, 3x3) and
// F(4x4, 3x3)), run directly against the double-precision reference of
// conv_reference.h: odd and even images from 1x1 to 9x9 (partial
// last tiles), zero to two pads each side, asymmetric and auto_pad, channel
// counts around the micro-kernel's row tiles and panels, batches whose tile
// rows share a block, one and two threads, every epilogue form (bias, skip
// tensor, ReLU/Clip in registers, other activations after), NaN, Inf and an
// overflow inside the transforms, and the transformed weight itself. Then the
// hook: which convolutions a session runs in which form, and
// ONNX_MINI_WINOGRAD=2 and =0.
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include "ops/conv_epilogue.h"
#include "ops/conv_winograd.h"
#include "ops/parallel.h"
#include "tests/ops/conv_node.h"

namespace onnx_mini::testing {
namespace {

using Activation = ConvActivation;
using RunOptions = ConvNodeRun;

ConvAttributes attributes_of(const ConvCase& c) {
  ConvAttributes a;
  a.pads = c.pads;
  a.auto_pad = c.auto_pad == "SAME_UPPER"   ? AutoPad::kSameUpper
               : c.auto_pad == "SAME_LOWER" ? AutoPad::kSameLower
               : c.auto_pad == "VALID"      ? AutoPad::kValid
                                            : AutoPad::kNotSet;
  return a;
}

double max_abs(const Tensor& t) {
  double m = 0;
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (std::isfinite(p[i])) m = std::max(m, static_cast<double>(std::fabs(p[i])));
  }
  return m;
}

// The rounding bound, u = 2^-24. In floating point each stage adds a relative
// error to sums of absolute values along each path: V = B^T d B, U = G g G^T
// (computed in double, 1 rounding), the C products and their sum (C
// roundings), Y = A^T M A. So |error| <= gamma(C + k) * S with gamma(n) = n u /
// (1 - n u), k the roundings of the transforms, and
//   S = |A^T| (sum_c |G| |g_c| |G^T| .* |B^T| |d_c| |B|) |A|.
// With every |g| <= wmax and |d| <= xmax, |G| J |G^T| = r r^T and |B^T| J |B|
// = s s^T (r, s: the row sums of |G| and |B^T|), so with q = r .* s every
// entry of S is at most C * wmax * xmax * (max_i (|A^T| q)_i)^2.
// - F(2x2): r = (1, 3/2, 3/2, 1), s = (2, 2, 2, 2), |A^T| q = (8, 8): S <=
//   64 C wmax xmax; V takes 3 roundings on a path (4 terms of +-d), Y 3 (9
//   terms), so k = 1 + 3 + 3 + 1 = 8. Against the direct form's worst case
//   gamma(9C) * 9C * wmax * xmax: about 7x at C = 1, 64/81 for large C (the
//   direct sum's 9C serial roundings then dominate).
// - F(4x4): r = (1/4, 1/2, 1/2, 7/24, 7/24, 1), s = (10, 10, 10, 6, 6, 10),
//   q = (5/2, 5, 5, 7/4, 7/4, 10), |A^T| q = (16, 17, 24, 48): S <= 2304 C
//   wmax xmax; V takes at most 2 roundings a pass (fused multiply-adds of
//   integer coefficients), Y at most 3 a pass, so k = 1 + 4 + 6 = 11: 36x
//   F(2x2)'s bound for large C, 2304/81 (about 28x) the direct form's.
// The epilogue adds bias and Z (each add rounds once, relative to the
// operands' magnitudes) and applies an activation with slope at most 1,
// which does not grow the error.
Tolerance winograd_tolerance(int64_t out_tile, const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b,
                             const Tensor* z) {
  const double u = std::ldexp(1.0, -24), channels = static_cast<double>(c.x[1]);
  const double k = out_tile == 2 ? 8 : 11, s = out_tile == 2 ? 64 : 2304;
  const double gamma = (channels + k) * u / (1 - (channels + k) * u);
  const double sum_bound = 9 * channels * max_abs(w) * max_abs(x);
  const double adds = 2 * u * (sum_bound + (b ? max_abs(*b) : 0) + (z ? max_abs(*z) : 0));
  return {.atol = gamma * s * channels * max_abs(w) * max_abs(x) + adds, .rtol = 2 * u};
}

std::unique_ptr<ConvEpilogue> epilogue_of(const Activation& act) {
  Attributes params;
  for (const auto& [name, v] : act.params) params.set(name, float_attr(v));
  auto e = make_conv_epilogue(act.name, params);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return std::move(e).value();
}

// Runs WinogradConv's form F(out_tile x out_tile, 3x3) on x, w (b, z
// optional) and returns Y.
Tensor run_winograd(int64_t out_tile, const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b,
                    const Tensor* z, const RunOptions& o) {
  const ConvAttributes attrs = attributes_of(c);
  EXPECT_TRUE(WinogradConv::can_run(w, attrs));
  WinogradConv conv;
  EXPECT_TRUE(conv.init(w, out_tile).is_ok());
  auto g = conv_geometry(attrs, x.shape(), w.shape());
  EXPECT_TRUE(g.is_ok()) << g.status().message();
  Tensor y = Tensor::allocate(DataType::kFloat, c.y_shape());
  const std::unique_ptr<ConvEpilogue> epilogue = epilogue_of(o.act);
  ThreadPool pool(o.threads);
  ConvRunArgs args;
  args.x = x.data<float>();
  args.bias = b ? b->data<float>() : nullptr;
  args.z = z ? z->data<float>() : nullptr;
  args.y = y.data<float>();
  args.epilogue = epilogue.get();
  args.pool = &pool;
  conv.run(g.value(), w.data<float>(), args);
  return y;
}

std::string describe(int64_t out_tile, const ConvCase& c, const RunOptions& o) {
  std::string s = "F(" + std::to_string(out_tile) + ") x=" + shape_to_string(c.x) + " M=" + std::to_string(c.out_channels) + " pads=[";
  for (int64_t p : c.pads) s += std::to_string(p) + ",";
  return s + "] " + c.auto_pad + " act=" + o.act.name + (o.z ? " +Z" : "") + " threads=" + std::to_string(o.threads);
}

// Random x, w, b (and z) in [-1, 1); Y against the reference.
void check_form(int64_t out_tile, const ConvCase& c, const RunOptions& o, const Tensor* x_given) {
  SCOPED_TRACE(describe(out_tile, c, o));
  const Tensor x = x_given ? *x_given : random_tensor(c.x, 31);
  const Tensor w = random_tensor(c.w_shape(), 32);
  const Tensor b = random_tensor({c.out_channels}, 33);
  const Tensor z = random_tensor(c.y_shape(), 34);
  const Tensor* bias = c.bias ? &b : nullptr;
  const Tensor* skip = o.z ? &z : nullptr;
  const Tensor got = run_winograd(out_tile, c, x, w, bias, skip, o);
  const Tensor want = reference_conv(c, x, w, bias, skip, o.act.fn);
  expect_close(got, want, winograd_tolerance(out_tile, c, x, w, bias, skip));
}

// Winograd runs on the packed micro-kernel: AVX-512F only.
class WinogradHookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "no AVX-512F: the packed micro-kernel Winograd runs on is absent";
  }
};

// The kernel's tests, once per form (the parameter: the output tile's side).
class WinogradConvTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "no AVX-512F: the packed micro-kernel Winograd runs on is absent";
  }
  void check(const ConvCase& c, const RunOptions& o = {}, const Tensor* x_given = nullptr) const {
    check_form(GetParam(), c, o, x_given);
  }
  Tensor run(const ConvCase& c, const Tensor& x, const Tensor& w, const RunOptions& o = {}) const {
    return run_winograd(GetParam(), c, x, w, nullptr, nullptr, o);
  }
};

INSTANTIATE_TEST_SUITE_P(Forms, WinogradConvTest, ::testing::Values(int64_t{2}, int64_t{4}),
                         [](const ::testing::TestParamInfo<int64_t>& info) {
                           return "F" + std::to_string(info.param) + "x" + std::to_string(info.param);
                         });

ConvCase square(Shape x, int64_t m, std::vector<int64_t> pads = {1, 1, 1, 1}) {
  return {.x = std::move(x), .out_channels = m, .kernel = {3, 3}, .pads = std::move(pads)};
}

// Every image from 1x1 to 9x9 that some padding leaves an output for, odd and
// even (the last tile row and column partial or whole), pads 0..2 each side
// and asymmetric, on one and two threads.
TEST_P(WinogradConvTest, ImageSizesAndPads) {
  const std::vector<std::vector<int64_t>> pads = {{0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {2, 0, 1, 2}, {0, 1, 2, 0}};
  for (int64_t h : {1, 2, 3, 4, 5, 7, 8, 9}) {
    for (int64_t w : {1, 3, 6, 9}) {
      for (const auto& p : pads) {
        if (h + p[0] + p[2] < 3 || w + p[1] + p[3] < 3) continue;  // no output
        check(square({2, 17, h, w}, 19, p), {.threads = static_cast<int>(1 + (h + w) % 2)});
      }
    }
  }
}

// auto_pad on odd and even sizes (SAME_LOWER puts the odd pad first).
TEST_P(WinogradConvTest, AutoPad) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
    for (int64_t side : {4, 7, 10}) {
      ConvCase c{.x = {1, 16, side, side + 1}, .out_channels = 16, .kernel = {3, 3}, .auto_pad = mode};
      check(c);
    }
  }
}

// Channel counts around the row tiles (8..12 rows of U), the 16-wide vectors
// and 32-column panels; wide rows (more tiles than a vector and a panel);
// batches whose tile rows share a block or span several.
TEST_P(WinogradConvTest, ChannelsTilesAndBatches) {
  for (int64_t m : {16, 23, 33, 64, 100}) check(square({1, 20, 14, 14}, m), {.threads = 2});
  for (int64_t c : {16, 31, 33, 100}) check(square({1, c, 9, 12}, 24), {.threads = 2});
  check(square({1, 16, 5, 70}, 16));              // 35 tiles per row: three vectors, two panels
  check(square({3, 40, 7, 7}, 36), {.threads = 2});  // 4x4 tiles, three images per block
  check(square({1, 48, 20, 28}, 20));              // two blocks of tile rows
  check(square({2, 256, 7, 7}, 24), {.threads = 2});  // depth 256, blocks across images
  // SqueezeNet 1.1's 13x13 layers at batch 1: one block, its output channels
  // split into a chunk per thread, of unequal row-tile counts where they do
  // not divide (16 row tiles in 3 chunks on 3 threads, 11 in 2 on 2).
  check(square({1, 48, 13, 13}, 192), {.threads = 3});
  check(square({1, 64, 13, 13}, 256), {.threads = 2});
  check(square({1, 64, 13, 13}, 132), {.threads = 2});
  // Two blocks on 2 threads (ResNet-18's 14x14 layers): a block each, no chunks.
  check(square({1, 256, 14, 14}, 40), {.threads = 2});
  // Few blocks on 2 threads, sized for the busiest thread's panels rather than
  // the most rows a block may take: 18 tile rows of 18 tiles in blocks of 10
  // and 8 (not 14 and 4), as SqueezeNet's 55x55 takes 8, 8, 8, 4 (not 9, 9, 9, 1).
  check(square({1, 16, 35, 35}, 32), {.threads = 2});
  // SqueezeNet 1.1's 16 -> 64 at 55x55 (F(4x4): 14 tile rows of 14 tiles).
  check(square({1, 16, 55, 55}, 64), {.threads = 2});
  // Blocks that do not share out evenly among the threads (ResNet-18's 28x28
  // layers: 7 blocks of 2 tile rows): the leftover ones split by output
  // channels, a chunk per thread, between the whole blocks: 3 + (1 in 2) + 3
  // on 2 threads, 2 + (1 in 3) + 4 on 3; 8 blocks on 3 threads, 2 + (2 in 3) + 4.
  check(square({1, 128, 28, 28}, 40), {.threads = 2});
  check(square({1, 128, 28, 28}, 40), {.threads = 3});
  check(square({1, 128, 32, 32}, 40), {.threads = 3});
}

// Each epilogue form, with and without bias and skip tensor: in registers
// (none, ReLU, Clip) and through ConvEpilogue::apply (the others).
TEST_P(WinogradConvTest, Epilogues) {
  const std::vector<Activation> acts = {
      {},
      {"Relu", {}, [](double v) { return v < 0 ? 0 : v; }},
      {"Clip", {{"min", -0.5f}, {"max", 0.5f}}, [](double v) { return std::min(std::max(v, -0.5), 0.5); }},
      {"Sigmoid", {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"LeakyRelu", {{"alpha", 0.2f}}, [](double v) { return v < 0 ? 0.2 * v : v; }},
  };
  for (const Activation& act : acts) {
    for (bool z : {false, true}) {
      for (bool bias : {false, true}) {
        ConvCase c = square({2, 18, 9, 11}, 26, {1, 2, 0, 1});
        c.bias = bias;
        check(c, {.act = act, .z = z, .threads = 2});
      }
    }
  }
}

// NaN and +-Inf in X come out where the direct convolution puts them: the
// tiles they reach are summed again directly (the transforms alone would
// give NaN for Inf across the whole tile).
TEST_P(WinogradConvTest, NanAndInfinity) {
  const ConvCase c = square({2, 16, 10, 9}, 20);
  Tensor x = random_tensor(c.x, 41);
  float* p = x.data<float>();
  const float inf = std::numeric_limits<float>::infinity();
  p[3 * 90 + 4 * 9 + 4] = std::numeric_limits<float>::quiet_NaN();  // image 0, channel 3, (4, 4)
  p[16 * 90 + 5 * 90 + 0] = inf;                                     // image 1, channel 5, corner
  p[16 * 90 + 7 * 90 + 9 * 9 + 8] = -inf;                            // image 1, last pixel
  p[16 * 90 + 8 * 90 + 2 * 9 + 5] = inf;
  for (const char* act : {"", "Relu"}) {
    const bool relu = std::string(act) == "Relu";
    check(c, {.act = {act, {}, [relu](double v) { return relu && v < 0 ? 0 : v; }}}, &x);
  }
}

// A value large enough that the transforms overflow (V up to 4 x the input in
// F(2x2) and U up to 2.25 x the weights; V up to 100 x the input in F(4x4))
// while the direct sum stays finite.
TEST_P(WinogradConvTest, OverflowInsideTheTransformsIsSummedDirectly) {
  const ConvCase c = square({1, 16, 6, 6}, 16);
  Tensor x = random_tensor(c.x, 42);
  x.data<float>()[2 * 36 + 2 * 6 + 3] = 1.6e38f;
  SCOPED_TRACE("large input");
  Tensor w = Tensor::allocate(DataType::kFloat, c.w_shape());
  float* wp = w.data<float>();
  for (int64_t i = 0; i < w.num_elements(); ++i) wp[i] = 1.0f;
  const Tensor got = run(c, x, w);
  ConvCase no_bias = c;
  no_bias.bias = false;
  const Tensor want = reference_conv(no_bias, x, w, nullptr, nullptr);
  // Outputs near the large value are 1.6e38 plus small terms: relative bound.
  expect_close(got, want, {.atol = 1e-3, .rtol = 1e-6});
}

// U = G g G^T as init packs it, against the same product in long double from
// the matrices as the literature gives them (Lavin and Gray, 2016): the
// data-path matrices B^T and A^T hold small integers (an error there is a
// large one, which the other tests see), G does not (F(4x4)'s 1/6, 1/12, 1/24:
// an error there can be small enough to hide in the rounding bound).
TEST_P(WinogradConvTest, TransformedWeightIsGgGt) {
  const long double g2[4][3] = {{1, 0, 0}, {0.5L, 0.5L, 0.5L}, {0.5L, -0.5L, 0.5L}, {0, 0, 1}};
  const long double g4[6][3] = {{1.0L / 4, 0, 0},          {-1.0L / 6, -1.0L / 6, -1.0L / 6},
                                {-1.0L / 6, 1.0L / 6, -1.0L / 6}, {1.0L / 24, 1.0L / 12, 1.0L / 6},
                                {1.0L / 24, -1.0L / 12, 1.0L / 6}, {0, 0, 1}};
  const int64_t in_tile = GetParam() + 2, positions = in_tile * in_tile, m = 5, c = 3;
  auto G = [&](int64_t i, int64_t k) { return GetParam() == 2 ? g2[i][k] : g4[i][k]; };
  const Tensor w = random_tensor({m, c, 3, 3}, 47);
  WinogradConv conv;
  ASSERT_TRUE(conv.init(w, GetParam()).is_ok());
  std::vector<float> u(static_cast<size_t>(positions * m * c));
  conv.transformed_weight().unpack_rows(u.data(), c);
  const float* g = w.data<float>();
  for (int64_t mi = 0; mi < m; ++mi) {
    for (int64_t ci = 0; ci < c; ++ci) {
      const float* kernel = g + (mi * c + ci) * 9;
      for (int64_t i = 0; i < in_tile; ++i) {
        for (int64_t j = 0; j < in_tile; ++j) {
          long double want = 0;
          for (int64_t a = 0; a < 3; ++a) {
            for (int64_t b = 0; b < 3; ++b) want += G(i, a) * kernel[3 * a + b] * G(j, b);
          }
          const float got = u[static_cast<size_t>(((i * in_tile + j) * m + mi) * c + ci)];
          // Rounded once from double: within an ulp of the exact value.
          EXPECT_NEAR(got, static_cast<double>(want), std::ldexp(std::fabs(static_cast<double>(want)), -23))
              << "U(" << i << ", " << j << ") of output " << mi << ", input " << ci;
        }
      }
    }
  }
}

// Splitting the work over threads never splits a sum: the same bits.
TEST_P(WinogradConvTest, ThreadCountDoesNotChangeResults) {
  for (const ConvCase& c : {square({1, 32, 7, 7}, 64), square({3, 16, 20, 20}, 24), square({1, 128, 28, 28}, 40)}) {
    const Tensor x = random_tensor(c.x, 43), w = random_tensor(c.w_shape(), 44);
    const Tensor one = run(c, x, w, {.threads = 1});
    for (int threads : {2, 3}) {
      const Tensor more = run(c, x, w, {.threads = threads});
      EXPECT_EQ(values_of<float>(one), values_of<float>(more)) << threads << " threads";
    }
  }
}

TEST_F(WinogradHookTest, RunsOnlyItsConvolutions) {
  const Tensor w = random_tensor({16, 16, 3, 3}, 45);
  EXPECT_TRUE(WinogradConv::can_run(w, {}));
  ConvAttributes strided;
  strided.strides = {2, 2};
  EXPECT_FALSE(WinogradConv::can_run(w, strided));
  ConvAttributes dilated;
  dilated.dilations = {1, 2};
  EXPECT_FALSE(WinogradConv::can_run(w, dilated));
  ConvAttributes grouped;
  grouped.group = 2;
  EXPECT_FALSE(WinogradConv::can_run(random_tensor({16, 8, 3, 3}, 46), grouped));
  EXPECT_FALSE(WinogradConv::can_run(random_tensor({16, 16, 5, 5}, 49), {}));
  EXPECT_FALSE(WinogradConv::can_run(random_tensor({16, 16, 3}, 50), {}));        // 1-D
  EXPECT_FALSE(WinogradConv::can_run(random_tensor({16, 16, 3, 3, 3}, 51), {}));  // 3-D
  Tensor nan_w = random_tensor({16, 16, 3, 3}, 52);
  nan_w.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(WinogradConv::can_run(nan_w, {}));
}

TEST_F(WinogradHookTest, FormWhereItPays) {
  auto form = [](Shape w_shape, const TensorInfo* x = nullptr, const ConvAttributes& attrs = {}) {
    return WinogradConv::out_tile_for(random_tensor(std::move(w_shape), 45), attrs, x);
  };
  EXPECT_EQ(form({64, 64, 3, 3}), 4);
  ConvAttributes strided;
  strided.strides = {2, 2};
  EXPECT_EQ(form({64, 64, 3, 3}, nullptr, strided), 0);  // not one it can run
  // F(4x4) from 16 channels each way (SqueezeNet's 16 -> 64 at 55x55).
  TensorInfo wide = TensorInfo::of(DataType::kFloat, {1, 16, 55, 55});
  EXPECT_EQ(form({64, 16, 3, 3}, &wide), 4);
  EXPECT_EQ(form({15, 16, 3, 3}, &wide), 0);  // too few output channels
  EXPECT_EQ(form({16, 15, 3, 3}, &wide), 0);  // too few input channels
  // Images known to be under 16 columns: 48 input channels or more
  // (SqueezeNet's 48 -> 192 at 13x13).
  TensorInfo narrow = TensorInfo::of(DataType::kFloat, {1, 47, 13, 13});
  EXPECT_EQ(form({192, 47, 3, 3}, &narrow), 0);
  narrow.dims[1] = Dim{48, ""};
  EXPECT_EQ(form({192, 48, 3, 3}, &narrow), 4);
  narrow.dims[3] = Dim{16, ""};
  EXPECT_EQ(form({64, 32, 3, 3}, &narrow), 4);
  narrow.dims[3] = Dim{};  // unknown width
  EXPECT_EQ(form({64, 32, 3, 3}, &narrow), 4);
  // Images known to be under 12 pixels high or wide: F(2x2), with 64
  // channels each way and, under 16 columns, 128 input channels.
  TensorInfo small = TensorInfo::of(DataType::kFloat, {1, 64, 11, 18});
  EXPECT_EQ(form({64, 64, 3, 3}, &small), 2);
  EXPECT_EQ(form({63, 64, 3, 3}, &small), 0);
  EXPECT_EQ(form({64, 63, 3, 3}, &small), 0);
  small.dims[2] = Dim{12, ""};
  EXPECT_EQ(form({64, 64, 3, 3}, &small), 4);
  TensorInfo eight = TensorInfo::of(DataType::kFloat, {1, 512, 8, 8});
  EXPECT_EQ(form({256, 127, 3, 3}, &eight), 0);
  EXPECT_EQ(form({256, 128, 3, 3}, &eight), 2);
  // Images known to be under 8 pixels high or wide: never (a few tiles).
  for (const auto& [h, w_] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 4}, {7, 7}, {7, 32}, {32, 7}}) {
    TensorInfo tiny = TensorInfo::of(DataType::kFloat, {1, 512, h, w_});
    EXPECT_EQ(form({512, 512, 3, 3}, &tiny), 0) << h << "x" << w_;
  }
  Tensor nan_w = random_tensor({64, 64, 3, 3}, 52);
  nan_w.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(WinogradConv::out_tile_for(nan_w, {}), 0);
  setenv("ONNX_MINI_WINOGRAD", "0", 1);
  EXPECT_EQ(form({64, 64, 3, 3}), 0);
  setenv("ONNX_MINI_WINOGRAD", "2", 1);  // F(2x2) wherever Winograd runs
  EXPECT_EQ(form({64, 64, 3, 3}), 2);
  EXPECT_EQ(form({64, 16, 3, 3}, &wide), 2);
  EXPECT_EQ(form({64, 64, 3, 3}, &small), 2);
  unsetenv("ONNX_MINI_WINOGRAD");
}

// A session runs a 3x3 stride-1 Conv on Winograd in the form out_tile_for
// picks (the same bits as the kernel run directly in that form) unless
// ONNX_MINI_WINOGRAD=0 was set when it was built (then the gathered form,
// whose sums round differently); ONNX_MINI_WINOGRAD=2 gives F(2x2)'s bits.
TEST_F(WinogradHookTest, SessionRunsItUnlessTurnedOff) {
  // 10 rows: F(2x2); 20 rows: F(4x4).
  for (const auto& [c, out_tile] : {std::pair{square({1, 64, 10, 18}, 64), int64_t{2}},
                                    std::pair{square({1, 32, 20, 18}, 32), int64_t{4}}}) {
    SCOPED_TRACE(describe(out_tile, c, {}));
    const Tensor x = random_tensor(c.x, 53), w = random_tensor(c.w_shape(), 54);
    GraphBuilder gb;
    gb.input("X", DataType::kFloat, c.x);
    gb.initializer("W", w);
    gb.node("Conv", {"X", "W"}, {"Y"}, {{"pads", ints_attr(c.pads)}});
    gb.output("Y");
    const Graph graph = gb.build();
    auto run_session = [&] {
      SessionOptions opts;
      opts.threads = 1;
      auto s = Session::from_graph(graph, opts);
      EXPECT_TRUE(s.is_ok());
      auto out = s.value()->run({{"X", x}});
      EXPECT_TRUE(out.is_ok());
      return values_of<float>(out.value()[0].tensor);
    };
    ConvCase no_bias = c;
    no_bias.bias = false;
    const auto direct = values_of<float>(run_winograd(out_tile, no_bias, x, w, nullptr, nullptr, {}));
    const auto f2 = values_of<float>(run_winograd(2, no_bias, x, w, nullptr, nullptr, {}));
    EXPECT_EQ(run_session(), direct);
    setenv("ONNX_MINI_WINOGRAD", "2", 1);
    EXPECT_EQ(run_session(), f2);
    setenv("ONNX_MINI_WINOGRAD", "0", 1);
    EXPECT_NE(run_session(), direct);
    unsetenv("ONNX_MINI_WINOGRAD");
  }
}

}  // namespace
}  // namespace onnx_mini::testing
