#include "ops/conv_pixel_panels.h"

#include <algorithm>

#include "ops/parallel.h"
#include "ops/scratch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_PIXEL_PANELS 1
#else
#define ONNX_MINI_HAVE_PIXEL_PANELS 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kPanel = PixelPanels::kPanel;
// Packings of fewer floats run on the calling thread. Between the layers of a
// run the workers are awake (ops/parallel.cc), so a dispatch costs about what
// copying a few thousand floats does. Packing 64 K floats or less on the
// calling thread alone, the other thread waited, and the calling thread read
// the half of X the other one had written: ResNet-18's stride-2 1x1 layers
// (51 K and 28 K floats packed) took 223 and 227 us on 2 threads in the model,
// 118 and 113 with the packing split (--profile, five alternated rounds).
// From 2 K floats the model was slower again (MobileNetV2, SqueezeNet 1.02).
constexpr int64_t kMinParallelFloats = int64_t{8} << 10;

// A run of a panel's pixels along one output row: `length` pixels from panel
// column `column`, read from `source` (in a channel's plane) every `step` floats.
struct Segment {
  int64_t column, length, source, step;
};

// The panel's pixels [p0, p0 + cols) as runs along the innermost axis.
int64_t panel_segments(const ConvGeometry& g, int64_t p0, int64_t cols, Segment* out) {
  int64_t count = 0;
  for (int64_t j = 0; j < cols;) {
    const int64_t p = p0 + j, ow = p % g.out[2], oh = (p / g.out[2]) % g.out[1], od = p / (g.out[1] * g.out[2]);
    const int64_t length = std::min(cols - j, g.out[2] - ow);
    const int64_t source = (od * g.stride[0] * g.in[1] + oh * g.stride[1]) * g.in[2] + ow * g.stride[2];
    Segment* last = count > 0 ? &out[count - 1] : nullptr;
    if (last && last->step == 1 && g.stride[2] == 1 && last->source + last->length == source) {
      last->length += length;  // stride 1 in every axis: the whole panel is one run
    } else {
      out[count++] = {j, length, source, g.stride[2]};
    }
    j += length;
  }
  return count;
}

#if ONNX_MINI_HAVE_PIXEL_PANELS

__mmask16 first_lanes(int64_t n) {
  return static_cast<__mmask16>((uint32_t{1} << std::clamp<int64_t>(n, 0, 16)) - 1);
}

// dst[i] = src[i * step] for i < n <= 16, reading nothing past src[(n - 1) * step].
__attribute__((target("avx512f"), always_inline)) inline void copy_strided(const float* src, int64_t step, int64_t n, float* dst) {
  const __mmask16 mask = first_lanes(n);
  __m512 v;
  if (step == 1) {
    v = _mm512_maskz_loadu_ps(mask, src);
  } else if (step == 2) {
    // The even floats of 2n - 1 read in two masked loads.
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(2 * n - 1), src);
    const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(2 * n - 1 - 16), src + 16);
    v = _mm512_permutex2var_ps(lo, even, hi);
  } else {
    const __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(static_cast<int>(step)));
    v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, index, src, 4);
  }
  _mm512_mask_storeu_ps(dst, mask, v);
}

#else

void copy_strided(const float* src, int64_t step, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * step];
}

#endif

struct PackJob {
  const ConvGeometry* g;
  const float* x;
  float* out;
  int64_t panels;
};

// Panel p of one image and group: every channel's row from the same segments.
#if ONNX_MINI_HAVE_PIXEL_PANELS
__attribute__((target("avx512f")))
#endif
void pack_panel(const void* context, int64_t task) {
  const PackJob& job = *static_cast<const PackJob*>(context);
  const ConvGeometry& g = *job.g;
  const int64_t p = task % job.panels, image_group = task / job.panels;
  const int64_t cg = g.in_group_channels(), plane = g.in_pixels();
  const int64_t p0 = p * kPanel, cols = std::min(kPanel, g.out_pixels() - p0);
  Segment segments[kPanel];
  const int64_t count = panel_segments(g, p0, cols, segments);
  // X's channels of this image and group are consecutive: image_group * cg is
  // the first one's index.
  const float* x = job.x + image_group * cg * plane;
  float* dst = job.out + task * cg * kPanel;
  for (int64_t c = 0; c < cg; ++c, x += plane, dst += kPanel) {
    if (cols < kPanel) std::fill(dst + cols, dst + kPanel, 0.0f);
    for (int64_t s = 0; s < count; ++s) {
      const Segment& seg = segments[s];
      for (int64_t i = 0; i < seg.length; i += 16) {
        copy_strided(x + seg.source + i * seg.step, seg.step, std::min<int64_t>(16, seg.length - i),
                     dst + seg.column + i);
      }
    }
  }
}

}  // namespace

PixelPanels PixelPanels::pack(const ConvGeometry& g, const float* x, ThreadPool* pool) {
  PixelPanels panels;
  panels.groups_ = g.group;
  panels.panels_ = (g.out_pixels() + kPanel - 1) / kPanel;
  panels.depth_ = g.in_group_channels();
  const int64_t tasks = g.batch * g.group * panels.panels_, floats = tasks * panels.depth_ * kPanel;
  float* out = thread_scratch(ScratchSlot::kPixelPanels, floats);
  PackJob job{&g, x, out, panels.panels_};
  for_each_task(floats >= kMinParallelFloats ? pool : nullptr, tasks, pack_panel, &job);
  panels.data_ = out;
  return panels;
}

}  // namespace onnx_mini
