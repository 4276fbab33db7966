// PixelPanels::pack (ops/conv_pixel_panels.h) against the layout it promises,
// element by element: per image and group, panels of 32 output pixels, row c
// holding input channel c's values at those pixels, the last panel's missing
// pixels zero. Strides 1, 2 (the even-lane path) and 3 (the gather path), in
// one, two and three dimensions; output rows shorter and longer than a panel
// (a panel then spans several rows, or a row several panels).
#include <gtest/gtest.h>

#include <cmath>

#include "ops/conv_pixel_panels.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

ConvGeometry pointwise_geometry(int64_t batch, int64_t channels, int64_t group, ConvGeometry::Dims in,
                                ConvGeometry::Dims stride) {
  ConvGeometry g;
  g.spatial = 3;
  g.batch = batch;
  g.in_channels = channels;
  g.out_channels = group;
  g.group = group;
  g.in = in;
  g.stride = stride;
  for (int i = 0; i < kMaxConvSpatial; ++i) g.out[i] = (in[i] - 1) / stride[i] + 1;
  return g;
}

void check_packing(const ConvGeometry& g, ThreadPool* pool) {
  SCOPED_TRACE("in " + std::to_string(g.in[0]) + "x" + std::to_string(g.in[1]) + "x" + std::to_string(g.in[2]) +
               " stride " + std::to_string(g.stride[0]) + "," + std::to_string(g.stride[1]) + "," +
               std::to_string(g.stride[2]) + " channels " + std::to_string(g.in_channels) + " groups " +
               std::to_string(g.group) + " batch " + std::to_string(g.batch));
  const Tensor x = random_tensor({g.batch * g.in_channels * g.in_pixels()}, 3);
  const float* xs = x.data<float>();
  const PixelPanels panels = PixelPanels::pack(g, xs, pool);
  const int64_t P = g.out_pixels(), cg = g.in_group_channels();
  ASSERT_EQ(panels.panels(), (P + 31) / 32);
  int64_t mismatches = 0;
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t group = 0; group < g.group; ++group) {
      for (int64_t p = 0; p < panels.panels(); ++p) {
        for (int64_t c = 0; c < cg; ++c) {
          for (int64_t j = 0; j < 32; ++j) {
            const int64_t q = p * 32 + j;
            float want = 0;
            if (q < P) {
              const int64_t od = q / (g.out[1] * g.out[2]), oh = (q / g.out[2]) % g.out[1], ow = q % g.out[2];
              const int64_t pixel = (od * g.stride[0] * g.in[1] + oh * g.stride[1]) * g.in[2] + ow * g.stride[2];
              want = xs[(n * g.in_channels + group * cg + c) * g.in_pixels() + pixel];
            }
            const float got = panels.panel(n, group, p)[c * 32 + j];
            if (got != want && mismatches++ < 5) {
              ADD_FAILURE() << "image " << n << " group " << group << " panel " << p << " channel " << c
                            << " column " << j << ": " << got << " want " << want;
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(PixelPanels, MatchesTheLayoutAtEveryStride) {
  if (!PackedWeights::supported()) GTEST_SKIP() << "the packed convolution kernels need AVX-512F";
  ThreadPool pool(2);
  for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
    for (int64_t s : {1, 2, 3}) {
      check_packing(pointwise_geometry(1, 5, 1, {1, 1, 1}, {1, 1, s}), p);
      check_packing(pointwise_geometry(2, 3, 1, {1, 1, 97}, {1, 1, s}), p);       // 1-D, rows of many panels
      check_packing(pointwise_geometry(1, 4, 1, {1, 7, 7}, {1, s, s}), p);        // rows shorter than a panel
      check_packing(pointwise_geometry(3, 6, 2, {1, 13, 15}, {1, s, 1}), p);      // groups, stride in H only
      check_packing(pointwise_geometry(1, 2, 1, {1, 56, 56}, {1, s, s}), p);      // ResNet's downsample
      check_packing(pointwise_geometry(1, 3, 1, {5, 6, 37}, {s, 1, s}), p);       // 3-D
      check_packing(pointwise_geometry(1, 300, 1, {1, 14, 14}, {1, s, s}), p);    // above the parallel threshold
    }
  }
}

}  // namespace
}  // namespace onnx_mini::testing
