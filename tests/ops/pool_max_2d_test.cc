// MaxPool's vectorised 2-D float path (ops/pool_max_2d.*) against a naive
// double-precision reference written here: widths around the 16-lane vector
// length and its stride-2 double, ceil_mode's clipped last windows, every
// padding, stride 1 and 2, kernels 2 and 3, NaN and infinities.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "ops/pool_max_2d.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

struct Case2d {
  int64_t planes, h, w, k, s;
  std::array<int64_t, 4> pads;  // top, left, bottom, right
  bool ceil_mode;
};

struct RefAxis {
  int64_t in, k, s, pb, out;
};

// The spec's output size for one axis; ceil_mode drops a window starting past the input and its padding.
RefAxis ref_axis(int64_t in, int64_t k, int64_t s, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - k;
  int64_t out = ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
  if (ceil_mode && (out - 1) * s >= in + pb) --out;
  return {in, k, s, pb, out};
}

// Max over each window's input taps; NaN when any of them is NaN.
std::vector<double> reference(const Case2d& c, const Tensor& x, const RefAxis& ah, const RefAxis& aw) {
  const float* px = x.data<float>();
  std::vector<double> y;
  for (int64_t p = 0; p < c.planes; ++p) {
    for (int64_t oh = 0; oh < ah.out; ++oh) {
      for (int64_t ow = 0; ow < aw.out; ++ow) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t i = oh * ah.s - ah.pb; i < oh * ah.s - ah.pb + ah.k; ++i) {
          for (int64_t j = ow * aw.s - aw.pb; j < ow * aw.s - aw.pb + aw.k; ++j) {
            if (i < 0 || i >= c.h || j < 0 || j >= c.w) continue;
            const double v = px[(p * c.h + i) * c.w + j];
            m = (std::isnan(m) || std::isnan(v)) ? std::numeric_limits<double>::quiet_NaN() : std::max(m, v);
          }
        }
        y.push_back(m);
      }
    }
  }
  return y;
}

void check_case(const Case2d& c, const Tensor& x) {
  SCOPED_TRACE("h " + std::to_string(c.h) + " w " + std::to_string(c.w) + " k " + std::to_string(c.k) + " s " +
               std::to_string(c.s) + " pads " + std::to_string(c.pads[0]) + std::to_string(c.pads[1]) +
               std::to_string(c.pads[2]) + std::to_string(c.pads[3]) + " ceil " + std::to_string(c.ceil_mode));
  const RefAxis ah = ref_axis(c.h, c.k, c.s, c.pads[0], c.pads[2], c.ceil_mode);
  const RefAxis aw = ref_axis(c.w, c.k, c.s, c.pads[1], c.pads[3], c.ceil_mode);
  NodeModel m("MaxPool", 12);
  m.feed(x).attr_ints("kernel_shape", {c.k, c.k}).attr_ints("strides", {c.s, c.s});
  m.attr_ints("pads", {c.pads[0], c.pads[1], c.pads[2], c.pads[3]}).attr_int("ceil_mode", c.ceil_mode ? 1 : 0);
  auto out = m.run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  // Max picks one of its inputs: exact, NaN where the reference has NaN.
  expect_close(out.value()[0], make_tensor<double>({1, c.planes, ah.out, aw.out}, reference(c, x, ah, aw)), {0, 0});
}

// Widths below, at and above 16 and 32 (one and two vectors of stride-2 input).
const int64_t kWidths[] = {1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 34, 35, 47, 48, 49, 63, 64, 65, 66, 111};

std::vector<std::array<int64_t, 4>> paddings(int64_t k) {
  std::vector<std::array<int64_t, 4>> p = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 1, 0}, {1, 0, 0, 1}};
  if (k == 3) p.push_back({2, 2, 2, 2});  // padding up to kernel - 1: every window still holds input
  return p;
}

TEST(PoolMax2d, EveryWidthKernelStridePaddingAndCeilMode) {
  int checked = 0;
  for (int64_t w : kWidths) {
    for (int64_t k : {2, 3}) {
      for (int64_t s : {1, 2}) {
        for (const auto& pads : paddings(k)) {
          for (bool ceil_mode : {false, true}) {
            const Case2d c{2, 7, w, k, s, pads, ceil_mode};
            if (w + pads[1] + pads[3] < k) continue;  // the kernel does not fit
            check_case(c, random_tensor({1, c.planes, c.h, c.w}, static_cast<uint64_t>(w * 31 + k), -4.f, 4.f));
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 600);
}

TEST(PoolMax2d, NaNAndInfinitiesInEveryPosition) {
  std::mt19937_64 rng(5);
  for (int64_t w : {16, 17, 33, 55}) {
    for (int64_t s : {1, 2}) {
      for (bool ceil_mode : {false, true}) {
        const Case2d c{3, 9, w, 3, s, {1, 1, 1, 1}, ceil_mode};
        Tensor x = random_tensor({1, c.planes, c.h, c.w}, static_cast<uint64_t>(w), -2.f, 2.f);
        float* px = x.data<float>();
        const float special[] = {NAN, -NAN, INFINITY, -INFINITY, -std::numeric_limits<float>::max()};
        for (int64_t i = 0; i < x.num_elements(); ++i) {
          if (rng() % 16 == 0) px[i] = special[rng() % std::size(special)];
        }
        check_case(c, x);
      }
    }
  }
}

TEST(PoolMax2d, EveryHeightAndWidthUpTo40) {
  // Rows striding 2 go in pairs, an odd one alone: every height from 1 up,
  // with padding rows and ceil_mode's clipped last window at either end.
  for (int64_t h = 1; h <= 9; ++h) {
    for (int64_t w = 1; w <= 40; ++w) {
      for (int64_t k : {2, 3}) {
        for (int64_t s : {1, 2}) {
          for (int64_t pad : {0, 1}) {
            if (h + 2 * pad < k || w + 2 * pad < k) continue;
            for (bool ceil_mode : {false, true}) {
              const Case2d c{2, h, w, k, s, {pad, pad, pad, pad}, ceil_mode};
              check_case(c, random_tensor({1, c.planes, c.h, c.w}, static_cast<uint64_t>(h * 64 + w), -4.f, 4.f));
            }
          }
        }
      }
    }
  }
}

TEST(PoolMax2d, OneNaNInAnyPositionIsFound) {
  // Plane p holds a single NaN at element p: the plain-max pass must notice
  // it wherever it is (first window's rows, either row of a pair, the last
  // row, edge columns) and the plane run again propagating it.
  for (int64_t h : {5, 6, 7, 8}) {
    for (int64_t w : {3, 17, 40}) {
      for (int64_t k : {2, 3}) {
        for (int64_t s : {1, 2}) {
          for (int64_t pad : {0, 1}) {
            for (bool ceil_mode : {false, true}) {
              const Case2d c{h * w, h, w, k, s, {pad, pad, pad, pad}, ceil_mode};
              Tensor x = random_tensor({1, c.planes, c.h, c.w}, static_cast<uint64_t>(h * w), -2.f, 2.f);
              for (int64_t p = 0; p < c.planes; ++p) x.data<float>()[p * h * w + p] = NAN;
              check_case(c, x);
            }
          }
        }
      }
    }
  }
}

TEST(PoolMax2d, AllNegativeInfinityInputStaysNegativeInfinity) {
  // Padding is -inf too: a window of -inf input gives -inf, never a padding artefact.
  Tensor x = random_tensor({1, 1, 5, 20}, 3);
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = -INFINITY;
  check_case({1, 5, 20, 3, 2, {1, 1, 1, 1}, true}, x);
}

AxisWindow axis(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d = 1) {
  AxisWindow a;
  a.in = in, a.out = out, a.kernel = k, a.stride = s, a.dilation = d;
  return a;
}

TEST(PoolMax2d, AppliesToTheCommonCnnShapesOnly) {
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "the vector path needs AVX-512F; this CPU takes pool_loops";
  WindowGeometry g;
  g.rank = 2;
  g.axes[0] = axis(111, 55, 3, 2), g.axes[1] = axis(111, 55, 3, 2);  // SqueezeNet 1.1
  EXPECT_TRUE(max_pool_2d_applies(g));
  g.axes[1] = axis(2000, 1999, 2, 1);
  EXPECT_TRUE(max_pool_2d_applies(g));
  g.axes[1] = axis(111, 55, 3, 2, 2);  // dilation
  EXPECT_FALSE(max_pool_2d_applies(g));
  g.axes[1] = axis(111, 37, 3, 3);  // stride 3
  EXPECT_FALSE(max_pool_2d_applies(g));
  g.axes[1] = axis(111, 108, 4, 1);  // kernel 4
  EXPECT_FALSE(max_pool_2d_applies(g));
  g.axes[1] = axis(9000, 8999, 2, 1);  // rows of any length: nothing is buffered per row
  EXPECT_TRUE(max_pool_2d_applies(g));
  g.axes[1] = axis(111, 55, 3, 2);
  g.rank = 1;
  EXPECT_FALSE(max_pool_2d_applies(g));
}

TEST(PoolMax2d, LongRowsMatchTheReference) {
  // Hundreds of 16-output chunks per row, each taking its last taps from the next chunk's columns.
  for (int64_t s : {1, 2}) {
    for (bool ceil_mode : {false, true}) {
      const Case2d c{1, 4, 5001, 3, s, {1, 0, 0, 1}, ceil_mode};
      check_case(c, random_tensor({1, c.planes, c.h, c.w}, static_cast<uint64_t>(11 + s), -3.f, 3.f));
    }
  }
}

TEST(PoolMax2d, SqueezeNetFirstPoolMatchesTheReference) {
  // SqueezeNet's first pool, 64 channels at 111x111, ceil_mode (its planes run in blocks on the session's threads).
  const Case2d c{64, 111, 111, 3, 2, {0, 0, 0, 0}, true};
  check_case(c, random_tensor({1, c.planes, c.h, c.w}, 9, -3.f, 3.f));
}

}  // namespace
}  // namespace onnx_mini::testing
