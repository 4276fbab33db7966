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

// The padded input rows a block reads: output rows times the stride, plus the
// kernel's 3; scratch row r holds input row r - pad_begin (zeros outside). The
// columns the output reads, likewise (the scratch holds only the input's own).
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
  int64_t images_per_task;
};

// The scratch of one block: the input rows [padded rows][input width][16],
// with `guard` pixel vectors before and after them (the addresses of masked-out
// loads left and right of the rows; never read), then the output
// [output pixels][16].
struct Scratch {
  float* rows;
  float* out;
};

// At least the left padding (the first row's loads start that far before it) and
// the columns the last row's loads reach past its end (under padded_cols).
int64_t guard_pixels(const ConvGeometry& g) { return padded_cols(g) + g.pad_begin[2]; }

Scratch block_scratch(const ConvGeometry& g) {
  const int64_t guard = guard_pixels(g) * kLanes, rows = padded_rows(g) * g.in[2] * kLanes;
  float* s = thread_scratch(ScratchSlot::kDepthwiseBlock, 2 * guard + rows + round_up_pixels(g.out_pixels()) * kLanes);
  return {s + guard, s + 2 * guard + rows};
}

__mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((uint32_t{1} << std::min(n, kLanes)) - 1); }

// 16 channels of n <= 16 consecutive input pixels from `first` (at
// `plane` floats between channels) as 16 pixel vectors; absent channels and
// pixels past n give zero lanes.
__attribute__((target("avx512f"))) inline void load_pixels(const Block& b, int64_t plane, int64_t first,
                                                           __mmask16 mask, __m512 v[16]) {
#pragma GCC unroll 16
  for (int c = 0; c < kLanes; ++c) {
    v[c] = c < b.channels ? _mm512_maskz_loadu_ps(mask, b.x + c * plane + first) : _mm512_setzero_ps();
  }
  transpose16(v);
}

// The block's input planes into the scratch rows: the rows the output reads
// are consecutive pixels of the planes, so 16 flattened pixels at a time
// (whatever the row width: a 7-wide row wastes no lanes) go to 16 consecutive
// pixel vectors; rows above and below the input are zeros.
__attribute__((target("avx512f"))) void pack_input(const ConvGeometry& g, const Block& b, float* rows) {
  const int64_t width = g.in[2], top = std::min(g.pad_begin[1], padded_rows(g));
  const int64_t rows_read = std::clamp<int64_t>(padded_rows(g) - top, 0, g.in[1]);
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t q = 0; q < top * width; ++q) _mm512_storeu_ps(rows + q * kLanes, zero);
  for (int64_t q = (top + rows_read) * width; q < padded_rows(g) * width; ++q) _mm512_storeu_ps(rows + q * kLanes, zero);
  float* dst = rows + top * width * kLanes;
  const int64_t pixels = rows_read * width;
  int64_t p0 = 0;
  for (; p0 + kLanes <= pixels; p0 += kLanes) {
    __m512 v[kLanes];
    load_pixels(b, g.in_pixels(), p0, 0xFFFF, v);
#pragma GCC unroll 16
    for (int j = 0; j < kLanes; ++j) _mm512_storeu_ps(dst + (p0 + j) * kLanes, v[j]);
  }
  if (p0 == pixels) return;
  __m512 v[kLanes];
  load_pixels(b, g.in_pixels(), p0, first_lanes(pixels - p0), v);
#pragma GCC unroll 16
  for (int j = 0; j < kLanes; ++j) {
    if (p0 + j < pixels) _mm512_storeu_ps(dst + (p0 + j) * kLanes, v[j]);
  }
}

// N consecutive output pixels of one row at horizontal stride S: bias plus
// the 9 taps, each a weight vector times the pixel vector under it. Each input
// pixel vector is loaded once per kernel row and multiplied into every output
// pixel whose window holds it (up to 3 at stride 1), so loads stay well below
// the multiply-adds. row: the input pixel under the first output's tap (0, 0);
// row_floats between kernel rows; valid[i]: all lanes when input pixel i of
// the row lies inside the input, else none (the zero padding left and right).
template <int N, int S>
__attribute__((target("avx512f"), always_inline)) inline void run_sums(const float* row, int64_t row_floats,
                                                                      const __mmask16* valid, const __m512 w[9],
                                                                      __m512 bias, __m512 acc[N]) {
  constexpr int kSpan = (N - 1) * S + 3;
#pragma GCC unroll 16
  for (int k = 0; k < N; ++k) acc[k] = bias;
#pragma GCC unroll 3
  for (int kh = 0; kh < 3; ++kh) {
    const float* r = row + kh * row_floats;
#pragma GCC unroll 32
    for (int i = 0; i < kSpan; ++i) {
      const __m512 x = _mm512_maskz_loadu_ps(valid[i], r + i * kLanes);
#pragma GCC unroll 3
      for (int kw = 0; kw < 3; ++kw) {
        const int d = i - kw;  // output pixel d / S reads pixel i through tap kw
        if (d >= 0 && d % S == 0 && d / S < N) acc[d / S] = _mm512_fmadd_ps(w[kh * 3 + kw], x, acc[d / S]);
      }
    }
  }
}

template <int N, int S>
__attribute__((target("avx512f"))) inline void output_run(const float* row, int64_t row_floats,
                                                          const __mmask16* valid, const __m512 w[9], __m512 bias,
                                                          float* out) {
  __m512 acc[N];
  run_sums<N, S>(row, row_floats, valid, w, bias, acc);
#pragma GCC unroll 16
  for (int k = 0; k < N; ++k) _mm512_storeu_ps(out + k * kLanes, acc[k]);
}

// The longest run of output pixels in registers: 14 accumulators, 9 weight
// vectors and the loaded pixel fit the 32 vector registers.
constexpr int64_t kMaxRun = 14;

// output_run<n, S> for a run length n in [N, kMaxRun].
template <int S, int N = 1>
__attribute__((target("avx512f"))) inline void output_run_of(int64_t n, const float* row, int64_t row_floats,
                                                             const __mmask16* valid, const __m512 w[9], __m512 bias,
                                                             float* out) {
  if constexpr (N < kMaxRun) {
    if (n != N) return output_run_of<S, N + 1>(n, row, row_floats, valid, w, bias, out);
  }
  output_run<N, S>(row, row_floats, valid, w, bias, out);
}

// Larger strides, one output pixel at a time.
__attribute__((target("avx512f"))) void output_pixel_any_stride(const float* row, int64_t row_floats,
                                                                const __mmask16* valid, const __m512 w[9],
                                                                __m512 bias, float* out) {
  __m512 acc = bias;
  for (int kh = 0; kh < 3; ++kh) {
    for (int kw = 0; kw < 3; ++kw) {
      acc = _mm512_fmadd_ps(w[kh * 3 + kw], _mm512_maskz_loadu_ps(valid[kw], row + (kh * row_floats) + kw * kLanes),
                            acc);
    }
  }
  _mm512_storeu_ps(out, acc);
}

// Every output pixel of the block into out [out rows * out cols][16]: each
// output row in runs of at most kMaxRun pixels (as even as they come), the
// masks of a run's input columns worked out once for all its rows.
__attribute__((target("avx512f"))) void convolve(const ConvGeometry& g, const float* rows, const __m512 w[9],
                                                 __m512 bias, float* out) {
  const int64_t width = g.in[2], out_width = g.out[2], stride = g.stride[2], left = g.pad_begin[2];
  const int64_t row_floats = width * kLanes, runs = (out_width + kMaxRun - 1) / kMaxRun;
  for (int64_t run = 0; run < runs; ++run) {
    const int64_t ow0 = run * out_width / runs, n = (run + 1) * out_width / runs - ow0;
    const int64_t first_col = ow0 * stride - left;  // input column under the run's tap (., 0)
    __mmask16 valid[(kMaxRun - 1) * 2 + 3];
    const int64_t span = stride <= 2 ? (n - 1) * stride + 3 : 3;
    for (int64_t i = 0; i < span; ++i) valid[i] = first_col + i >= 0 && first_col + i < width ? 0xFFFF : 0;
    for (int64_t oh = 0; oh < g.out[1]; ++oh) {
      const float* row = rows + (oh * g.stride[1] * width + first_col) * kLanes;
      float* dst = out + (oh * out_width + ow0) * kLanes;
      if (stride <= 2) {
        if (stride == 1) {
          output_run_of<1>(n, row, row_floats, valid, w, bias, dst);
        } else {
          output_run_of<2>(n, row, row_floats, valid, w, bias, dst);
        }
        continue;
      }
      for (int64_t k = 0; k < n; ++k) {
        __mmask16 pixel_valid[3];
        for (int64_t kw = 0; kw < 3; ++kw) {
          const int64_t col = first_col + k * stride + kw;
          pixel_valid[kw] = col >= 0 && col < width ? 0xFFFF : 0;
        }
        output_pixel_any_stride(row + k * stride * kLanes, row_floats, pixel_valid, w, bias, dst + k * kLanes);
      }
    }
  }
}

// 16 pixel vectors of output (v[j]: output pixel p0 + j, j < n) transposed
// into the block's NCHW output planes, the skip tensor added and ReLU/Clip
// applied before the store.
__attribute__((target("avx512f"), always_inline)) inline void store_pixels(const ConvGeometry& g,
                                                                          const BlockedJob& job, const Block& b,
                                                                          __m512 v[16], int64_t p0, int64_t n) {
  const RegisterEpilogue& e = *job.form;
  const bool relu = job.in_registers && e.relu, clip = job.in_registers && e.clip;
  const __m512 zero = _mm512_setzero_ps();
  const int64_t pixels = g.out_pixels();
  const __mmask16 mask = first_lanes(n);
  transpose16(v);
#pragma GCC unroll 16
  for (int c = 0; c < kLanes; ++c) {
    if (c >= b.channels) break;
    __m512 sum = v[c];
    if (b.z) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, b.z + c * pixels + p0));
    if (relu) sum = _mm512_max_ps(zero, sum);
    if (clip) sum = _mm512_min_ps(_mm512_set1_ps(e.clip_hi), _mm512_max_ps(_mm512_set1_ps(e.clip_lo), sum));
    _mm512_mask_storeu_ps(b.y + c * pixels + p0, mask, sum);
  }
}

// out [pixels][16] back into the block's NCHW output planes, 16 pixels at a
// time.
__attribute__((target("avx512f"), flatten)) void unpack_output(const ConvGeometry& g, const BlockedJob& job, const Block& b,
                                                      const float* o) {
  const int64_t pixels = g.out_pixels();
  for (int64_t p0 = 0; p0 < pixels; p0 += kLanes) {
    const int64_t n = std::min(kLanes, pixels - p0);
    __m512 v[kLanes];
#pragma GCC unroll 16
    for (int j = 0; j < kLanes; ++j) v[j] = j < n ? _mm512_loadu_ps(o + (p0 + j) * kLanes) : _mm512_setzero_ps();
    store_pixels(g, job, b, v, p0, n);
  }
}

// Output rows of at most kMaxRun pixels at horizontal stride 1 or 2 (the
// 7- and 14-wide layers) without the [pixels][16] scratch: 16 / N whole rows
// at a time (consecutive pixels of the output planes) are summed into 16
// registers, transposed and stored, so the multiply-adds and the shuffles of
// the transpose interleave instead of taking turns.
template <int N, int S>
__attribute__((target("avx512f"), flatten)) void convolve_rows_to_planes(const ConvGeometry& g, const BlockedJob& job,
                                                                const Block& b, const float* rows,
                                                                const __mmask16* valid, const __m512 w[9],
                                                                __m512 bias) {
  constexpr int kRows = kLanes / N;
  const int64_t width = g.in[2], row_floats = width * kLanes, rows_step = g.stride[1] * row_floats;
  const float* first = rows - g.pad_begin[2] * kLanes;
  for (int64_t oh = 0; oh < g.out[1]; oh += kRows) {
    const int64_t count = std::min<int64_t>(kRows, g.out[1] - oh);
    __m512 v[kLanes];
#pragma GCC unroll 16
    for (int k = 0; k < kRows; ++k) {
      if (k < count) {
        run_sums<N, S>(first + (oh + k) * rows_step, row_floats, valid, w, bias, v + k * N);
      } else {
#pragma GCC unroll 16
        for (int j = 0; j < N; ++j) v[k * N + j] = _mm512_setzero_ps();
      }
    }
#pragma GCC unroll 16
    for (int j = kRows * N; j < kLanes; ++j) v[j] = _mm512_setzero_ps();
    store_pixels(g, job, b, v, oh * N, count * N);
  }
}

// convolve_rows_to_planes<n, S> for an output width n in [N, kMaxRun].
template <int S, int N = 1>
__attribute__((target("avx512f"))) void convolve_to_planes_of(const ConvGeometry& g, const BlockedJob& job,
                                                              const Block& b, const float* rows,
                                                              const __mmask16* valid, const __m512 w[9],
                                                              __m512 bias) {
  if constexpr (N < kMaxRun) {
    if (g.out[2] != N) return convolve_to_planes_of<S, N + 1>(g, job, b, rows, valid, w, bias);
  }
  convolve_rows_to_planes<N, S>(g, job, b, rows, valid, w, bias);
}

// Whether convolve_to_planes() takes the geometry: output rows of one run.
bool rows_fit_registers(const ConvGeometry& g) { return g.out[2] <= kMaxRun && g.stride[2] <= 2; }

__attribute__((target("avx512f"))) void convolve_to_planes(const ConvGeometry& g, const BlockedJob& job,
                                                           const Block& b, const float* rows, const __m512 w[9],
                                                           __m512 bias) {
  __mmask16 valid[(kMaxRun - 1) * 2 + 3];
  const int64_t span = (g.out[2] - 1) * g.stride[2] + 3;
  for (int64_t i = 0; i < span; ++i) valid[i] = i - g.pad_begin[2] >= 0 && i - g.pad_begin[2] < g.in[2] ? 0xFFFF : 0;
  if (g.stride[2] == 1) {
    convolve_to_planes_of<1>(g, job, b, rows, valid, w, bias);
  } else {
    convolve_to_planes_of<2>(g, job, b, rows, valid, w, bias);
  }
}

// The whole run of a block's planes (one image), in order, for the cache
// level `hint`: the transposes walk 16 planes side by side, more streams than
// the hardware prefetcher follows when the input comes from L3 (batch 8 took
// 1.5 times the per-plane loop's time without it).
template <int Hint>
__attribute__((target("avx512f"))) void prefetch_planes(const float* x, int64_t floats) {
  const char* run = reinterpret_cast<const char*>(x);
  const int64_t bytes = floats * static_cast<int64_t>(sizeof(float));
  // __builtin_prefetch, not _mm_prefetch: GCC types the hint as enum _mm_hint,
  // clang (the fuzzer's compiler) as an int; the locality values are the same.
  for (int64_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(run + offset, 0, Hint);
}

// One block of channels in a run of images: the weight vectors set up once,
// the next image's planes fetched into L2 while this one is computed.
__attribute__((target("avx512f"))) void blocked_task(const void* context, int64_t task) {
  const BlockedJob& job = *static_cast<const BlockedJob*>(context);
  const ConvGeometry& g = *job.g;
  const ConvRunArgs& args = *job.args;
  const int64_t c0 = task % job.blocks * kLanes, channels = std::min(kLanes, g.in_channels - c0);
  const int64_t first_image = task / job.blocks * job.images_per_task;
  const int64_t end_image = std::min(g.batch, first_image + job.images_per_task);
  // The block's 9 weight vectors ([C, 1, 3, 3]: 9 floats between channels)
  // and its bias, zero in absent channels.
  const __mmask16 present = first_lanes(channels);
  const __m512i tap0 = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                          _mm512_set1_epi32(9));
  __m512 w[9];
  for (int t = 0; t < 9; ++t) w[t] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), present, tap0, job.w + c0 * 9 + t, 4);
  const __m512 bias = args.bias ? _mm512_maskz_loadu_ps(present, args.bias + c0) : _mm512_setzero_ps();
  const Scratch s = block_scratch(g);
  const int64_t block_floats = channels * g.in_pixels(), image_floats = g.in_channels * g.in_pixels();
  prefetch_planes<_MM_HINT_T0>(args.x + first_image * image_floats + c0 * g.in_pixels(), block_floats);
  for (int64_t image = first_image; image < end_image; ++image) {
    const int64_t plane = image * g.in_channels + c0;
    const Block b{args.x + plane * g.in_pixels(), args.z ? args.z + plane * g.out_pixels() : nullptr,
                  args.y + plane * g.out_pixels(), channels};
    pack_input(g, b, s.rows);
    if (image + 1 < end_image) prefetch_planes<_MM_HINT_T1>(b.x + image_floats, block_floats);
    if (rows_fit_registers(g)) {
      convolve_to_planes(g, job, b, s.rows, w, bias);
    } else {
      convolve(g, s.rows, w, bias, s.out);
      unpack_output(g, job, b, s.out);
    }
    if (!job.in_registers) args.epilogue->apply(b.y, g.out_pixels(), channels, g.out_pixels(), nullptr, nullptr, 0);
  }
}

}  // namespace

// Tasks are (block of channels, run of images): a block's weights are set up
// once per run and the next image's planes fetched while one is computed. The
// runs are as long as the threads allow: at least 4 tasks per thread, so the
// ones that finish early take more.
void depthwise_blocked_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args,
                            const RegisterEpilogue& form, bool in_registers) {
  const int64_t blocks = (g.in_channels + kLanes - 1) / kLanes, threads = args.pool ? args.pool->num_threads() : 1;
  const int64_t runs = std::clamp<int64_t>((4 * threads + blocks - 1) / blocks, 1, g.batch);
  const BlockedJob job{&g, w, &args, &form, in_registers, blocks, (g.batch + runs - 1) / runs};
  for_each_task(args.pool, blocks * ((g.batch + job.images_per_task - 1) / job.images_per_task), blocked_task, &job);
}

#else

void depthwise_blocked_conv(const ConvGeometry&, const float*, const ConvRunArgs&, const RegisterEpilogue&,
                            bool) {}  // depthwise_blocked_applies() is false: never reached

#endif

}  // namespace onnx_mini
