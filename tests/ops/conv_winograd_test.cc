// WinogradConv (ops/conv_winograd.h) run directly against the double-precision
// reference of conv_reference.h: odd and even images from 1x1 to 9x9 (partial
// last tiles), zero to two pads each side, asymmetric and auto_pad, channel
// counts around the micro-kernel's row tiles and panels, batches whose tile
// rows share a block, one and two threads, every epilogue form (bias, skip
// tensor, ReLU/Clip in registers, other activations after), NaN, Inf and an
// overflow inside the transforms. Then the hook: which convolutions a session
// runs on it, and ONNX_MINI_WINOGRAD=0.
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
// error to sums of absolute values: V = B^T d B (4 terms of +-d per entry,
// 3 roundings), U = G g G^T (computed in double, 1 rounding), the C products
// and their sum (C roundings), Y = A^T M A (9 terms, 3 roundings along each
// path). So |error| <= gamma(C + 8) * S with gamma(n) = n u / (1 - n u) and
//   S = |A^T| (sum_c |G| |g_c| |G^T| .* |B^T| |d_c| |B|) |A|.
// With every |g| <= wmax and |d| <= xmax: |G| J |G^T| = r r^T, r = (1, 3/2,
// 3/2, 1) (row sums of |G|, times wmax), |B^T| J |B| = 4 J (times xmax), and
// |A^T| (4 r r^T) |A| = 4 * 4 * 4 = 64 in every entry (rows of |A^T| pick three
// entries of r summing to 4). Hence |error| <= gamma(C + 8) * 64 * C * wmax * xmax:
// about 7x the direct form's worst case gamma(9C) * 9C * wmax * xmax. The
// epilogue adds bias and Z (each add rounds once, relative to the operands'
// magnitudes) and applies an activation with slope at most 1, which does not
// grow the error.
Tolerance winograd_tolerance(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* z) {
  const double u = std::ldexp(1.0, -24), channels = static_cast<double>(c.x[1]);
  const double gamma = (channels + 8) * u / (1 - (channels + 8) * u);
  const double sum_bound = 9 * channels * max_abs(w) * max_abs(x);
  const double adds = 2 * u * (sum_bound + (b ? max_abs(*b) : 0) + (z ? max_abs(*z) : 0));
  return {.atol = gamma * 64 * channels * max_abs(w) * max_abs(x) + adds, .rtol = 2 * u};
}

std::unique_ptr<ConvEpilogue> epilogue_of(const Activation& act) {
  Attributes params;
  for (const auto& [name, v] : act.params) params.set(name, float_attr(v));
  auto e = make_conv_epilogue(act.name, params);
  EXPECT_TRUE(e.is_ok()) << e.status().message();
  return std::move(e).value();
}

// Runs WinogradConv on x, w (b, z optional) and returns Y.
Tensor run_winograd(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* z,
                    const RunOptions& o) {
  const ConvAttributes attrs = attributes_of(c);
  EXPECT_TRUE(WinogradConv::can_run(w, attrs));
  WinogradConv conv;
  EXPECT_TRUE(conv.init(w).is_ok());
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

std::string describe(const ConvCase& c, const RunOptions& o) {
  std::string s = "x=" + shape_to_string(c.x) + " M=" + std::to_string(c.out_channels) + " pads=[";
  for (int64_t p : c.pads) s += std::to_string(p) + ",";
  return s + "] " + c.auto_pad + " act=" + o.act.name + (o.z ? " +Z" : "") + " threads=" + std::to_string(o.threads);
}

// Random x, w, b (and z) in [-1, 1); Y against the reference.
void check(const ConvCase& c, const RunOptions& o = {}, const Tensor* x_given = nullptr) {
  SCOPED_TRACE(describe(c, o));
  const Tensor x = x_given ? *x_given : random_tensor(c.x, 31);
  const Tensor w = random_tensor(c.w_shape(), 32);
  const Tensor b = random_tensor({c.out_channels}, 33);
  const Tensor z = random_tensor(c.y_shape(), 34);
  const Tensor* bias = c.bias ? &b : nullptr;
  const Tensor* skip = o.z ? &z : nullptr;
  const Tensor got = run_winograd(c, x, w, bias, skip, o);
  const Tensor want = reference_conv(c, x, w, bias, skip, o.act.fn);
  expect_close(got, want, winograd_tolerance(c, x, w, bias, skip));
}

// Winograd runs on the packed micro-kernel: AVX-512F only.
class WinogradConvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "no AVX-512F: the packed micro-kernel Winograd runs on is absent";
  }
};

ConvCase square(Shape x, int64_t m, std::vector<int64_t> pads = {1, 1, 1, 1}) {
  return {.x = std::move(x), .out_channels = m, .kernel = {3, 3}, .pads = std::move(pads)};
}

// Every image from 1x1 to 9x9 that some padding leaves an output for, odd and
// even (the last tile row and column partial or whole), pads 0..2 each side
// and asymmetric, on one and two threads.
TEST_F(WinogradConvTest, ImageSizesAndPads) {
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
TEST_F(WinogradConvTest, AutoPad) {
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
TEST_F(WinogradConvTest, ChannelsTilesAndBatches) {
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
TEST_F(WinogradConvTest, Epilogues) {
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
TEST_F(WinogradConvTest, NanAndInfinity) {
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

// A value large enough that a transformed product overflows (U up to 2.25 x
// the weights, V up to 2 x the input) while the direct sum stays finite.
TEST_F(WinogradConvTest, OverflowInsideTheTransformsIsSummedDirectly) {
  const ConvCase c = square({1, 16, 6, 6}, 16);
  Tensor x = random_tensor(c.x, 42);
  x.data<float>()[2 * 36 + 2 * 6 + 3] = 1.6e38f;
  SCOPED_TRACE("large input");
  Tensor w = Tensor::allocate(DataType::kFloat, c.w_shape());
  float* wp = w.data<float>();
  for (int64_t i = 0; i < w.num_elements(); ++i) wp[i] = 1.0f;
  const Tensor got = run_winograd(c, x, w, nullptr, nullptr, {});
  ConvCase no_bias = c;
  no_bias.bias = false;
  const Tensor want = reference_conv(no_bias, x, w, nullptr, nullptr);
  // Outputs near the large value are 1.6e38 plus small terms: relative bound.
  expect_close(got, want, {.atol = 1e-3, .rtol = 1e-6});
}

// Splitting the work over threads never splits a sum: the same bits.
TEST_F(WinogradConvTest, ThreadCountDoesNotChangeResults) {
  for (const ConvCase& c : {square({1, 32, 7, 7}, 64), square({3, 16, 20, 20}, 24), square({1, 128, 28, 28}, 40)}) {
    const Tensor x = random_tensor(c.x, 43), w = random_tensor(c.w_shape(), 44);
    const Tensor one = run_winograd(c, x, w, nullptr, nullptr, {.threads = 1});
    for (int threads : {2, 3}) {
      const Tensor more = run_winograd(c, x, w, nullptr, nullptr, {.threads = threads});
      EXPECT_EQ(values_of<float>(one), values_of<float>(more)) << threads << " threads";
    }
  }
}

TEST_F(WinogradConvTest, RunsOnlyItsConvolutions) {
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

TEST_F(WinogradConvTest, AppliesWhereItPays) {
  const Tensor w = random_tensor({64, 64, 3, 3}, 45);
  EXPECT_TRUE(WinogradConv::applies(w, {}));
  ConvAttributes strided;
  strided.strides = {2, 2};
  EXPECT_FALSE(WinogradConv::applies(w, strided));                             // not one it can run
  EXPECT_FALSE(WinogradConv::applies(random_tensor({63, 64, 3, 3}, 47), {}));  // too few output channels
  EXPECT_FALSE(WinogradConv::applies(random_tensor({64, 63, 3, 3}, 48), {}));  // too few input channels
  EXPECT_FALSE(WinogradConv::applies(random_tensor({64, 16, 3, 3}, 48), {}));  // SqueezeNet's 16 -> 64
  // Images known to be under 16 columns: only with 128 input channels or more.
  TensorInfo narrow = TensorInfo::of(DataType::kFloat, {1, 127, 13, 13});
  EXPECT_FALSE(WinogradConv::applies(random_tensor({256, 127, 3, 3}, 55), {}, &narrow));
  narrow.dims[1] = Dim{128, ""};
  EXPECT_TRUE(WinogradConv::applies(random_tensor({256, 128, 3, 3}, 56), {}, &narrow));
  narrow.dims[3] = Dim{16, ""};
  EXPECT_TRUE(WinogradConv::applies(random_tensor({256, 64, 3, 3}, 57), {}, &narrow));
  narrow.dims[3] = Dim{};  // unknown width
  EXPECT_TRUE(WinogradConv::applies(random_tensor({256, 64, 3, 3}, 58), {}, &narrow));
  // Images known to be under 8 pixels high or wide: never (a few tiles).
  for (const auto& [h, w_] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {4, 4}, {7, 7}, {7, 32}, {32, 7}}) {
    TensorInfo tiny = TensorInfo::of(DataType::kFloat, {1, 512, h, w_});
    EXPECT_FALSE(WinogradConv::applies(random_tensor({512, 512, 3, 3}, 59), {}, &tiny)) << h << "x" << w_;
  }
  TensorInfo eight = TensorInfo::of(DataType::kFloat, {1, 512, 8, 8});
  EXPECT_TRUE(WinogradConv::applies(random_tensor({512, 512, 3, 3}, 59), {}, &eight));
  Tensor nan_w = random_tensor({64, 64, 3, 3}, 52);
  nan_w.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(WinogradConv::applies(nan_w, {}));
  setenv("ONNX_MINI_WINOGRAD", "0", 1);
  EXPECT_FALSE(WinogradConv::applies(w, {}));
  unsetenv("ONNX_MINI_WINOGRAD");
}

// A session runs a 3x3 stride-1 Conv on Winograd (the same bits as the kernel
// run directly) unless ONNX_MINI_WINOGRAD=0 was set when it was built (then the
// gathered form, whose sums round differently).
TEST_F(WinogradConvTest, SessionRunsItUnlessTurnedOff) {
  const ConvCase c = square({1, 64, 10, 18}, 64);  // 18 columns: not a narrow image
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
  const auto direct = values_of<float>(run_winograd(no_bias, x, w, nullptr, nullptr, {}));
  EXPECT_EQ(run_session(), direct);
  setenv("ONNX_MINI_WINOGRAD", "0", 1);
  EXPECT_NE(run_session(), direct);
  unsetenv("ONNX_MINI_WINOGRAD");
}

}  // namespace
}  // namespace onnx_mini::testing
