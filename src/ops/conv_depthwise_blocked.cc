#include "ops/conv_depthwise_blocked.h"

#include <algorithm>
#include <cstdint>

#include "core/tensor.h"
#include "ops/parallel.h"
#include "ops/scratch.h"
#include "ops/simd_transpose.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_DEPTHWISE_BLOCKED 1
#else
#define ONNX_MINI_HAVE_DEPTHWISE_BLOCKED 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kLanes = 16;

// The widest input (and output) row the blocked form takes. Measured
// (bench_conv, one thread, MobileNetV2's shapes, against the per-plane loop):
// it wins on 7-, 14- and 28-wide inputs at both strides (0.4 to 0.9 of the
// time at batch 1); on 56-wide ones it takes 1.2 (stride 2) to 1.8 (stride 1)
// times as long at batch 1, more at batch 8: the per-plane loop fills its
// vectors there and skips the two transposes.
constexpr int64_t kMaxInWidth = 28;
// Padded input pixels per channel at most: bounds the per-thread scratch
// (16 channels of them) whatever the image height.
constexpr int64_t kMaxPaddedPixels = 64 * 64;

// The padded input a block reads: output rows and columns times the stride,
// plus the kernel's 3. Row r holds input row r - pad_begin (zeros outside).
int64_t padded_rows(const ConvGeometry& g) { return (g.out[1] - 1) * g.stride[1] + 3; }
int64_t padded_cols(const ConvGeometry& g) { return (g.out[2] - 1) * g.stride[2] + 3; }
int64_t round_up_pixels(int64_t pixels) { return (pixels + kLanes - 1) / kLanes * kLanes; }

}  // namespace

bool depthwise_blocked_applies(const ConvGeometry& g) {
  return ONNX_MINI_HAVE_DEPTHWISE_BLOCKED && g.spatial == 2 && g.kernel[1] == 3 && g.kernel[2] == 3 &&
         g.dilation[1] == 1 && g.dilation[2] == 1 && g.out[1] > 0 && g.out[2] > 0 && g.in[2] <= kMaxInWidth &&
         g.out[2] <= kMaxInWidth && padded_rows(g) * padded_cols(g) <= kMaxPaddedPixels;
}

#if ONNX_MINI_HAVE_DEPTHWISE_BLOCKED
namespace {

// One task's 16 (or, in the last block, fewer) channels of one image.
struct Block {
  const float* x;  // the first channel's input plane
  const float* z;  // its skip plane, or null
  float* y;        // its output plane
  int64_t channels;
};

struct BlockedJob {
  const ConvGeometry* g;
  const float* w;
  const ConvRunArgs* args;
  const RegisterEpilogue* form;
  bool in_registers;
  int64_t blocks;  // per image
};

__mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((uint32_t{1} << std::min(n, kLanes)) - 1); }

// Zeros where the padded scratch lies outside the input: whole rows above and
// below it, the columns left and right of it.
__attribute__((target("avx512f"))) void zero_padding(const ConvGeometry& g, float* s) {
  const int64_t rows = padded_rows(g), cols = padded_cols(g), top = g.pad_begin[1], left = g.pad_begin[2];
  const int64_t right = std::clamp<int64_t>(left + g.in[2], 0, cols);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * cols * kLanes;
    const bool inside = r - top >= 0 && r - top < g.in[1];
    const int64_t end_left = inside ? std::min(left, cols) : cols;
    for (int64_t q = 0; q < end_left; ++q) _mm512_storeu_ps(row + q * kLanes, zero);
    if (!inside) continue;
    for (int64_t q = right; q < cols; ++q) _mm512_storeu_ps(row + q * kLanes, zero);
  }
}

// 16 channels of n <= 16 consecutive input pixels from `first` (at
// `plane` floats between channels) as 16 pixel vectors; absent channels and
// pixels past n give zero lanes.
__attribute__((target("avx512f"))) inline void load_pixels(const Block& b, int64_t plane, int64_t first, int64_t n,
                                                           __m512 v[16]) {
  const __mmask16 mask = first_lanes(n);
#pragma GCC unroll 16
  for (int c = 0; c < kLanes; ++c) {
    v[c] = c < b.channels ? _mm512_maskz_loadu_ps(mask, b.x + c * plane + first) : _mm512_setzero_ps();
  }
  transpose16(v);
}

// Rows of 16 pixels or more: per input row, 16 columns at a time, stored as
// consecutive pixel vectors of the scratch row.
__attribute__((target("avx512f"))) void pack_rows(const ConvGeometry& g, const Block& b, int64_t rows_read,
                                                  float* s) {
  const int64_t cols = padded_cols(g), top = g.pad_begin[1], left = g.pad_begin[2], width = g.in[2];
  const int64_t stored = std::clamp<int64_t>(cols - left, 0, width);  // input columns the output reads
  for (int64_t ih = 0; ih < rows_read; ++ih) {
    float* row = s + ((ih + top) * cols + left) * kLanes;
    for (int64_t iw = 0; iw < stored; iw += kLanes) {
      const int64_t n = std::min(kLanes, stored - iw);
      __m512 v[kLanes];
      load_pixels(b, g.in_pixels(), ih * width + iw, n, v);
#pragma GCC unroll 16
      for (int j = 0; j < kLanes; ++j) {
        if (j < n) _mm512_storeu_ps(row + (iw + j) * kLanes, v[j]);
      }
    }
  }
}

// Narrower rows: 16 pixels of the flattened planes at a time (a 7-wide row
// would waste over half of each transpose), each stored where its row and
// column put it.
__attribute__((target("avx512f"))) void pack_flat(const ConvGeometry& g, const Block& b, int64_t rows_read,
                                                  float* s) {
  const int64_t cols = padded_cols(g), top = g.pad_begin[1], left = g.pad_begin[2], width = g.in[2];
  const int64_t pixels = rows_read * width;
  int64_t ih = 0, iw = 0;
  for (int64_t p0 = 0; p0 < pixels; p0 += kLanes) {
    const int64_t n = std::min(kLanes, pixels - p0);
    __m512 v[kLanes];
    load_pixels(b, g.in_pixels(), p0, n, v);
#pragma GCC unroll 16
    for (int j = 0; j < kLanes; ++j) {
      if (j >= n) break;
      const int64_t q = iw + left;
      if (q < cols) _mm512_storeu_ps(s + ((ih + top) * cols + q) * kLanes, v[j]);
      if (++iw == width) {
        iw = 0;
        ++ih;
      }
    }
  }
}

// The block's input planes into the padded [rows][cols][16] scratch s (rows
// the output never reads are left out).
__attribute__((target("avx512f"))) void pack_input(const ConvGeometry& g, const Block& b, float* s) {
  // The block's planes are one contiguous run of the input, but the
  // transposes walk 16 of them side by side, more streams than the hardware
  // prefetcher follows when the input comes from L3 (batch 8 took 1.5 times
  // the per-plane loop's time): ask for the whole run, in order, first.
  const char* run = reinterpret_cast<const char*>(b.x);
  const int64_t bytes = b.channels * g.in_pixels() * static_cast<int64_t>(sizeof(float));
  for (int64_t offset = 0; offset < bytes; offset += 64) _mm_prefetch(run + offset, _MM_HINT_T0);
  zero_padding(g, s);
  const int64_t rows_read = std::clamp<int64_t>(padded_rows(g) - g.pad_begin[1], 0, g.in[1]);
  if (g.in[2] >= kLanes) {
    pack_rows(g, b, rows_read, s);
  } else {
    pack_flat(g, b, rows_read, s);
  }
}

// N consecutive output pixels: bias plus the 9 taps, each a weight vector
// times the pixel vector under it. rows[kh]: the first pixel's tap (kh, 0);
// `step` floats between the taps of neighbouring output pixels.
template <int N>
__attribute__((target("avx512f"))) inline void output_pixels(const float* const rows[3], int64_t step,
                                                             const __m512 w[9], __m512 bias, float* out) {
  __m512 acc[N];
#pragma GCC unroll 8
  for (int k = 0; k < N; ++k) acc[k] = bias;
#pragma GCC unroll 3
  for (int kh = 0; kh < 3; ++kh) {
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; ++kw) {
#pragma GCC unroll 8
      for (int k = 0; k < N; ++k) {
        acc[k] = _mm512_fmadd_ps(w[kh * 3 + kw], _mm512_loadu_ps(rows[kh] + k * step + kw * kLanes), acc[k]);
      }
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < N; ++k) _mm512_storeu_ps(out + k * kLanes, acc[k]);
}

// Every output pixel of the block into o [out rows * out cols][16].
__attribute__((target("avx512f"))) void convolve(const ConvGeometry& g, const float* s, const __m512 w[9],
                                                 __m512 bias, float* o) {
  const int64_t cols = padded_cols(g), out_width = g.out[2], step = g.stride[2] * kLanes;
  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
    const float* top = s + oh * g.stride[1] * cols * kLanes;
    float* out = o + oh * out_width * kLanes;
    for (int64_t ow = 0; ow < out_width; ow += 8) {
      const float* rows[3] = {top + ow * step, top + (cols + ow * g.stride[2]) * kLanes,
                              top + (2 * cols + ow * g.stride[2]) * kLanes};
      float* dst = out + ow * kLanes;
      switch (std::min<int64_t>(8, out_width - ow)) {
        case 8: output_pixels<8>(rows, step, w, bias, dst); break;
        case 7: output_pixels<7>(rows, step, w, bias, dst); break;
        case 6: output_pixels<6>(rows, step, w, bias, dst); break;
        case 5: output_pixels<5>(rows, step, w, bias, dst); break;
        case 4: output_pixels<4>(rows, step, w, bias, dst); break;
        case 3: output_pixels<3>(rows, step, w, bias, dst); break;
        case 2: output_pixels<2>(rows, step, w, bias, dst); break;
        default: output_pixels<1>(rows, step, w, bias, dst); break;
      }
    }
  }
}

// o [pixels][16] back into the block's NCHW output planes, 16 pixels at a
// time, the skip tensor added and ReLU/Clip applied before the store.
__attribute__((target("avx512f"))) void unpack_output(const ConvGeometry& g, const BlockedJob& job, const Block& b,
                                                      const float* o) {
  const RegisterEpilogue& e = *job.form;
  const bool relu = job.in_registers && e.relu, clip = job.in_registers && e.clip;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  const int64_t pixels = g.out_pixels();
  for (int64_t p0 = 0; p0 < pixels; p0 += kLanes) {
    const int64_t n = std::min(kLanes, pixels - p0);
    const __mmask16 mask = first_lanes(n);
    __m512 v[kLanes];
#pragma GCC unroll 16
    for (int j = 0; j < kLanes; ++j) v[j] = j < n ? _mm512_loadu_ps(o + (p0 + j) * kLanes) : zero;
    transpose16(v);
#pragma GCC unroll 16
    for (int c = 0; c < kLanes; ++c) {
      if (c >= b.channels) break;
      __m512 sum = v[c];
      if (b.z) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, b.z + c * pixels + p0));
      if (relu) sum = _mm512_max_ps(zero, sum);
      if (clip) sum = _mm512_min_ps(hi, _mm512_max_ps(lo, sum));
      _mm512_mask_storeu_ps(b.y + c * pixels + p0, mask, sum);
    }
  }
}

__attribute__((target("avx512f"))) void blocked_task(const void* context, int64_t task) {
  const BlockedJob& job = *static_cast<const BlockedJob*>(context);
  const ConvGeometry& g = *job.g;
  const ConvRunArgs& args = *job.args;
  const int64_t image = task / job.blocks, c0 = task % job.blocks * kLanes;
  const int64_t plane = image * g.in_channels + c0;
  const Block b{args.x + plane * g.in_pixels(), args.z ? args.z + plane * g.out_pixels() : nullptr,
                args.y + plane * g.out_pixels(), std::min(kLanes, g.in_channels - c0)};
  // The block's 9 weight vectors and its bias, zero in absent channels.
  alignas(64) float taps[9][kLanes] = {};
  alignas(64) float bias[kLanes] = {};
  for (int64_t c = 0; c < b.channels; ++c) {
    for (int t = 0; t < 9; ++t) taps[t][c] = job.w[(c0 + c) * 9 + t];
    bias[c] = args.bias ? args.bias[c0 + c] : 0.0f;
  }
  __m512 w[9];
  for (int t = 0; t < 9; ++t) w[t] = _mm512_load_ps(taps[t]);
  const int64_t in_floats = padded_rows(g) * padded_cols(g) * kLanes;
  float* s = thread_scratch(ScratchSlot::kDepthwiseBlock, in_floats + round_up_pixels(g.out_pixels()) * kLanes);
  float* o = s + in_floats;
  pack_input(g, b, s);
  convolve(g, s, w, _mm512_load_ps(bias), o);
  unpack_output(g, job, b, o);
  if (!job.in_registers) args.epilogue->apply(b.y, g.out_pixels(), b.channels, g.out_pixels(), nullptr, nullptr, 0);
}

}  // namespace

void depthwise_blocked_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args,
                            const RegisterEpilogue& form, bool in_registers) {
  const BlockedJob job{&g, w, &args, &form, in_registers, (g.in_channels + kLanes - 1) / kLanes};
  for_each_task(args.pool, g.batch * job.blocks, blocked_task, &job);
}

#else

void depthwise_blocked_conv(const ConvGeometry&, const float*, const ConvRunArgs&, const RegisterEpilogue&,
                            bool) {}  // depthwise_blocked_applies() is false: never reached

#endif

}  // namespace onnx_mini
