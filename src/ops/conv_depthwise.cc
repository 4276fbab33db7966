#include "ops/conv_depthwise.h"

#include <algorithm>

#include "ops/conv_depthwise_3x3.h"
#include "ops/conv_depthwise_blocked.h"
#include "ops/parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_DEPTHWISE 1
#else
#define ONNX_MINI_HAVE_DEPTHWISE 0
#endif

namespace onnx_mini {

bool depthwise_applies(const Shape& w, int64_t group) {
  return w.size() >= 3 && w[1] == 1 && w[0] == group && group > 1 && PackedWeights::supported();
}

#if ONNX_MINI_HAVE_DEPTHWISE
namespace {

constexpr int kLanes = 16;

struct DepthwiseJob {
  const ConvGeometry* g;
  const float* w;
  const ConvRunArgs* args;
  RegisterEpilogue form;
  bool in_registers;
};

// Lanes whose source column start + lane * step lies in [0, width).
__attribute__((target("avx512f"))) __mmask16 lanes_in_row(int64_t start, int64_t step, int64_t width) {
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i col = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(start)),
                                       _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(step))));
  const __mmask16 low = _mm512_cmpge_epi32_mask(col, _mm512_setzero_si512());
  return low & _mm512_cmplt_epi32_mask(col, _mm512_set1_epi32(static_cast<int32_t>(width)));
}

// The 16 input values a tap reads for 16 output columns: row[start + lane * stride],
// zero outside the row.
__attribute__((target("avx512f"))) __m512 tap_values(const float* row, int64_t start, int64_t stride, int64_t width) {
  if (stride == 1) return _mm512_maskz_loadu_ps(lanes_in_row(start, 1, width), row + start);
  if (stride == 2) {
    // 32 consecutive values, the even ones kept.
    const __m512 lo = _mm512_maskz_loadu_ps(lanes_in_row(start, 1, width), row + start);
    const __m512 hi = _mm512_maskz_loadu_ps(lanes_in_row(start + 16, 1, width), row + start + 16);
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    return _mm512_permutex2var_ps(lo, even, hi);
  }
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(start)),
                                         _mm512_mullo_epi32(lane, _mm512_set1_epi32(static_cast<int32_t>(stride))));
  return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes_in_row(start, stride, width), index, row, 4);
}

// One output row (od, oh) of one channel: every 16-column chunk accumulated
// over the kernel's taps, then the epilogue, stored.
__attribute__((target("avx512f"))) void depthwise_row(const DepthwiseJob& job, const float* x, const float* w,
                                                     float bias, const float* z, float* y, int64_t od, int64_t oh) {
  const ConvGeometry& g = *job.g;
  const RegisterEpilogue& e = job.form;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  const bool relu = job.in_registers && e.relu, clip = job.in_registers && e.clip;
  for (int64_t ox = 0; ox < g.out[2]; ox += kLanes) {
    __m512 acc = _mm512_set1_ps(bias);
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad_begin[0];
      if (id < 0 || id >= g.in[0]) continue;
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        const int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad_begin[1];
        if (ih < 0 || ih >= g.in[1]) continue;
        const float* row = x + (id * g.in[1] + ih) * g.in[2];
        const float* taps = w + (kd * g.kernel[1] + kh) * g.kernel[2];
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
          const int64_t start = ox * g.stride[2] + kw * g.dilation[2] - g.pad_begin[2];
          acc = _mm512_fmadd_ps(_mm512_set1_ps(taps[kw]), tap_values(row, start, g.stride[2], g.in[2]), acc);
        }
      }
    }
    const __mmask16 out_mask = static_cast<__mmask16>((uint32_t{1} << std::min<int64_t>(kLanes, g.out[2] - ox)) - 1);
    if (z) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(out_mask, z + ox));
    if (relu) acc = _mm512_max_ps(zero, acc);
    if (clip) acc = _mm512_min_ps(hi, _mm512_max_ps(lo, acc));
    _mm512_mask_storeu_ps(y + ox, out_mask, acc);
  }
  if (!job.in_registers) job.args->epilogue->apply(y, 0, 1, g.out[2], nullptr, nullptr, 0);
}

void depthwise_plane(const void* context, int64_t plane) {
  const DepthwiseJob& job = *static_cast<const DepthwiseJob*>(context);
  const ConvGeometry& g = *job.g;
  const ConvRunArgs& args = *job.args;
  const int64_t c = plane % g.in_channels;
  const float* x = args.x + plane * g.in_pixels();
  const float* w = job.w + c * g.kernel_pixels();
  const float bias = args.bias ? args.bias[c] : 0.0f;
  if (depthwise_3x3_applies(g)) {
    const DepthwisePlane p{x, w, bias, args.z ? args.z + plane * g.out_pixels() : nullptr,
                           args.y + plane * g.out_pixels()};
    depthwise_3x3_plane(g, p, job.form, job.in_registers, *args.epilogue);
    return;
  }
  for (int64_t od = 0; od < g.out[0]; ++od) {
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const int64_t offset = plane * g.out_pixels() + (od * g.out[1] + oh) * g.out[2];
      depthwise_row(job, x, w, bias, args.z ? args.z + offset : nullptr, args.y + offset, od, oh);
    }
  }
}

}  // namespace

void depthwise_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args) {
  DepthwiseJob job{&g, w, &args, {}, false};
  job.in_registers = args.epilogue->register_form(&job.form);
  if (depthwise_blocked_applies(g)) {
    depthwise_blocked_conv(g, w, args, job.form, job.in_registers);
    return;
  }
  for_each_task(args.pool, g.batch * g.in_channels, depthwise_plane, &job);
}

#else

void depthwise_conv(const ConvGeometry&, const float*, const ConvRunArgs&) {}  // needs AVX-512F: never reached

#endif

}  // namespace onnx_mini
