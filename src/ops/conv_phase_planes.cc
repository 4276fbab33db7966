#include "ops/conv_phase_planes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "ops/conv_patch_panel.h"
#include "ops/lane_mask.h"
#include "ops/parallel.h"
#include "ops/scratch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_PHASE_PLANES 1
#else
#define ONNX_MINI_HAVE_PHASE_PLANES 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kLanes = 16;
// Pixels per micro-kernel call: 2 or 3 vectors of 16, R x V accumulators for
// R rows of W. Tiles of up to 8 rows take 3: SqueezeNet's stem (8 tiles of 8,
// a 27-tap reduction) took 303 against 321 us, the calls' fixed costs (masks,
// bias, the row runs) spread over 48 pixels rather than 32.
constexpr int kMaxVectors = 3;
constexpr int64_t kMaxPanel = kMaxVectors * kLanes;
constexpr int kTileRows = static_cast<int>(PackedWeights::kMaxTileRows);
// Phase planes of one image, at most: 16 MiB (a 3-channel 1024x1024 image at
// stride 2 with a 7x7 kernel takes 3.2 M floats). Larger images take the
// patch-panel form, whose scratch does not grow with the image.
constexpr int64_t kMaxPlaneFloats = int64_t{4} << 20;
// Strides the form takes, at most: each of the sh x sw phases of a channel gets a plane.
constexpr int64_t kMaxStride = 8;
// Pixels per work unit, as floats of the planes' taps: 16 K floats (64 KiB,
// L2) of K x 32 or K x 48 tap rows, as the patch-panel form's blocks, which every row
// tile of W meets in turn.
constexpr int64_t kBlockFloats = int64_t{16} << 10;
// Units each thread should get at least, so uneven unit times even out.
constexpr int64_t kUnitsPerThread = 4;

// The planes of one convolution: their sizes and, per tap (c, kh, kw) in W's
// order, the offset of the value output pixel 0 reads in them.
struct PlaneLayout {
  int64_t sh = 1, sw = 1;    // strides: sh x sw planes per channel
  int64_t hs = 0, ws = 0;    // rows and columns of each plane
  int64_t wo = 0, ho = 0;    // output columns and rows
  int64_t floats = 0;        // all planes of one image, with the tail the last panel reads past
  int64_t depth = 0;         // taps
  std::array<int64_t, kMaxPatchPanelDepth> tap_offset{};

  int64_t plane_floats() const { return hs * ws; }
  // Pixels computed per image, past-the-row columns included.
  int64_t virtual_pixels() const { return ho * ws; }
};

// For 1-D and 2-D convolutions (spatial slot 0 unused): rows are slot 1, columns slot 2.
PlaneLayout layout_of(const ConvGeometry& g) {
  PlaneLayout l;
  l.sh = g.stride[1];
  l.sw = g.stride[2];
  l.ho = g.out[1];
  l.wo = g.out[2];
  l.hs = l.ho + (g.kernel[1] - 1) * g.dilation[1] / l.sh;
  l.ws = l.wo + (g.kernel[2] - 1) * g.dilation[2] / l.sw;
  const int64_t c = g.in_channels;
  l.depth = c * g.kernel[1] * g.kernel[2];
  // The last call reads up to 47 floats past the last pixel, and a tap's
  // shift reaches at most Ws - Wo (< Ws) columns past its plane's end: a row
  // and two calls' width of slack past the last plane.
  l.floats = c * l.sh * l.sw * l.plane_floats() + l.ws + 2 * kMaxPanel;
  return l;
}

void fill_tap_offsets(const ConvGeometry& g, PlaneLayout& l) {
  int64_t k = 0;
  for (int64_t c = 0; c < g.in_channels; ++c) {
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      const int64_t rh = kh * g.dilation[1];
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++k) {
        const int64_t rw = kw * g.dilation[2];
        const int64_t plane = (c * l.sh + rh % l.sh) * l.sw + rw % l.sw;
        l.tap_offset[k] = plane * l.plane_floats() + rh / l.sh * l.ws + rw / l.sw;
      }
    }
  }
}

// Lanes of one deinterleaving step: 16 plane columns from 32 input values.
constexpr int64_t kSplitLanes = 16;

#if ONNX_MINI_HAVE_PHASE_PLANES
// even[q] = row[first + 2 * q], odd[q] = row[first + 2 * q + 1] for q in
// [q, q_end) in steps of 16 (row[first + 2 * q .. + 31] in the row for every
// step taken): both column phases from one read of the row. Returns the first
// q not done (q itself when no step fits).
__attribute__((target("avx512f"))) int64_t split_even_odd(const float* row, int64_t first, int64_t q, int64_t q_end,
                                                          float* even_out, float* odd_out) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (; q + kSplitLanes <= q_end; q += kSplitLanes) {
    const __m512 lo = _mm512_loadu_ps(row + first + 2 * q), hi = _mm512_loadu_ps(row + first + 2 * q + 16);
    _mm512_storeu_ps(even_out + q, _mm512_permutex2var_ps(lo, even, hi));
    _mm512_storeu_ps(odd_out + q, _mm512_permutex2var_ps(lo, odd, hi));
  }
  return q;
}
#else
int64_t split_even_odd(const float*, int64_t, int64_t q, int64_t, float*, float*) { return q; }
#endif

// Plane columns [q_lo, q_hi) of one plane row hold input columns first + 2q
// (the others padding); the vector pass has made [done_lo, done_hi) already
// (possibly nothing, done_hi == done_lo; the loops clamp it to [q_lo, q_hi)):
// the rest one value at a time, and zeros.
void finish_phase_row(const float* src, int64_t first, int64_t q_lo, int64_t q_hi, int64_t done_lo, int64_t done_hi,
                      int64_t ws, float* out) {
  std::fill(out, out + q_lo, 0.0f);
  for (int64_t q = q_lo; q < std::min(done_lo, q_hi); ++q) out[q] = src[first + 2 * q];
  for (int64_t q = std::max(done_hi, q_lo); q < q_hi; ++q) out[q] = src[first + 2 * q];
  std::fill(out + q_hi, out + ws, 0.0f);
}

// Rows [r0, r1) of plane (c, ph, pw) of image x: row r, column q = padded
// input (r * sh + ph, q * sw + pw), zero in the padding. Column stride 2 (the
// stems) takes split_channel_stride2 instead.
void split_plane(const ConvGeometry& g, const PlaneLayout& l, const float* x, int64_t plane, int64_t r0, int64_t r1,
                 float* planes) {
  const int64_t pw = plane % l.sw, ph = plane / l.sw % l.sh, c = plane / (l.sw * l.sh);
  const int64_t height = g.in[1], width = g.in[2];
  const float* channel = x + c * height * width;
  float* out = planes + plane * l.plane_floats() + r0 * l.ws;
  // Plane column q is input column first + q * sw; columns [q_lo, q_hi) lie in the row.
  const int64_t first = pw - g.pad_begin[2];
  const int64_t q_lo = first >= 0 ? 0 : std::min(l.ws, (-first + l.sw - 1) / l.sw);
  const int64_t q_hi = width - first <= 0 ? 0 : std::clamp((width - first + l.sw - 1) / l.sw, q_lo, l.ws);
  for (int64_t r = r0; r < r1; ++r, out += l.ws) {
    const int64_t ih = r * l.sh + ph - g.pad_begin[1];
    if (ih < 0 || ih >= height || q_lo >= q_hi) {
      std::fill(out, out + l.ws, 0.0f);
      continue;
    }
    const float* src = channel + ih * width;
    std::fill(out, out + q_lo, 0.0f);
    if (l.sw == 1) {
      std::memcpy(out + q_lo, src + first + q_lo, static_cast<size_t>(q_hi - q_lo) * sizeof(float));
    } else {
      for (int64_t q = q_lo; q < q_hi; ++q) out[q] = src[first + q * l.sw];
    }
    std::fill(out + q_hi, out + l.ws, 0.0f);
  }
}

// Rows [r0, r1) of the planes (c, ph, 0) and (c, ph, 1) of every row phase
// ph, at column stride 2: each input row is read once, in order, and gives
// both column phases (plane (c, ph, pw) column q is padded input column
// 2q + pw). Made one plane at a time, every row was read twice and each plane
// read every sh-th row, from memory in a model (the image comes in cold):
// the stems in the models, `--profile`, alternated rounds, us: SqueezeNet's
// 310-336 -> 294-318 on 1 thread and 200-208 -> 183-189 on 2, MobileNetV2's
// 211-227 -> 190-200 and 136-152 -> 122-129, ResNet-18's 1355-1363 ->
// 1338-1349 on 1 thread.
void split_channel_stride2(const ConvGeometry& g, const PlaneLayout& l, const float* x, int64_t c, int64_t r0,
                           int64_t r1, float* planes) {
  const int64_t height = g.in[1], width = g.in[2], pad = g.pad_begin[2];
  const float* channel = x + c * height * width;
  // Per column phase: input column first + 2q for plane column q, in the row for q in [q_lo, q_hi).
  int64_t first[2], q_lo[2], q_hi[2];
  for (int64_t pw = 0; pw < 2; ++pw) {
    first[pw] = pw - pad;
    q_lo[pw] = first[pw] >= 0 ? 0 : std::min(l.ws, (-first[pw] + 1) / 2);
    q_hi[pw] = width - first[pw] <= 0 ? 0 : std::clamp((width - first[pw] + 1) / 2, q_lo[pw], l.ws);
  }
  // The vector pass reads input columns first[0] + 2q .. + 31 for both
  // phases at once, for q where both planes' columns q .. q + 15 are in
  // [q_lo, q_hi): so are the 32 columns read (q_lo[0] puts first[0] + 2q at
  // or past the row's start, q_hi[1] first[0] + 2q + 31 before its end).
  const int64_t v_lo = std::max(q_lo[0], q_lo[1]);
  const int64_t v_end = std::min(q_hi[0], q_hi[1]);
  for (int64_t r = r0; r < r1; ++r) {
    for (int64_t ph = 0; ph < l.sh; ++ph) {
      const int64_t ih = r * l.sh + ph - g.pad_begin[1];
      float* out[2];
      for (int64_t pw = 0; pw < 2; ++pw) out[pw] = planes + ((c * l.sh + ph) * 2 + pw) * l.plane_floats() + r * l.ws;
      if (ih < 0 || ih >= height) {
        std::fill(out[0], out[0] + l.ws, 0.0f);
        std::fill(out[1], out[1] + l.ws, 0.0f);
        continue;
      }
      const float* src = channel + ih * width;
      const int64_t v_hi = split_even_odd(src, first[0], v_lo, v_end, out[0], out[1]);
      for (int64_t pw = 0; pw < 2; ++pw) {
        finish_phase_row(src, first[pw], q_lo[pw], q_hi[pw], v_lo, v_hi, l.ws, out[pw]);
      }
    }
  }
}

struct PlaneJob {
  const ConvGeometry* g;
  const PackedWeights* w;
  const ConvRunArgs* args;
  const PlaneLayout* l;
  RegisterEpilogue form{};
  float* planes = nullptr;  // the current image's: written by the split, read by the units
  int64_t image = 0;
  int64_t bands = 1;        // bands of plane rows the split makes, one per thread
  int64_t panel_width = 0;  // pixels per micro-kernel call
  int64_t panels = 0, panels_per_block = 0, blocks = 0, tile_chunks = 1, tiles_per_chunk = 0;
};

#if ONNX_MINI_HAVE_PHASE_PLANES

// One row tile of W (R output channels) against the 16 V computed pixels
// [v0, v0 + 16 V) of one image: pixel v is output (v / Ws, v % Ws), not stored
// where v % Ws >= Wo or v >= Ho * Ws.
struct TapTile {
  const float* a;        // the row tile, tap p's R values at a + p * a_stride
  int64_t a_stride;
  const float* x;        // the planes + v0: tap p's 16 V values at x + tap_offset[p]
  const int64_t* tap_offset;
  int64_t depth;
  float* y;              // output channel plane of the tile's first row
  const float* z;        // the residual's, or null
  int64_t ldy;           // output pixels per channel plane
  const float* row_bias;  // the tile's first row's bias, or null
  int64_t v0, ws, wo, v_end;
  int64_t row;           // v0 / ws: the output row of the first pixel
};

// v0 + lane - shift, as an address: the computed pixel's place in the
// output plane (may point before `base` for lanes the mask leaves out).
inline float* at(float* base, int64_t offset) {
  return reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(base) + static_cast<uintptr_t>(offset) * sizeof(float));
}

template <int R, int V>
__attribute__((target("avx512f,prfchw"))) void tap_kernel(const TapTile& t, const RegisterEpilogue& e) {
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
    for (int h = 0; h < V; ++h) acc[r][h] = _mm512_setzero_ps();
  }
  // Y is large (3.2 MB for ResNet-18's stem) and, in a model, cold: the
  // layers after the stem evict it before the next run (the stem alone took
  // 1216 us, followed by layer1 1279, by layer2 1378, in the whole model
  // 1420). Ask for the next call's output lines, for writing, while this
  // call's taps run. Whole models on 1 thread, 3 rounds: ResNet-18's stem 1366
  // against 1437 us, SqueezeNet's 365 against 425, MobileNetV2's 250 against 268.
  // (PREFETCHW, the target's prfchw: every CPU with AVX-512F has it.)
  const int64_t next = t.v0 + V * kLanes - t.row * (t.ws - t.wo);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int h = 0; h <= V; ++h) __builtin_prefetch(at(t.y, r * t.ldy + next + kLanes * h), 1, 3);
  }
  const float* a = t.a;
  for (int64_t p = 0; p < t.depth; ++p, a += t.a_stride) {
    const float* b = t.x + t.tap_offset[p];
    __m512 bv[V];
#pragma GCC unroll 3
    for (int h = 0; h < V; ++h) bv[h] = _mm512_loadu_ps(b + kLanes * h);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
      for (int h = 0; h < V; ++h) acc[r][h] = _mm512_fmadd_ps(av, bv[h], acc[r][h]);
    }
  }
  // The tile's fields in locals: a store through a float* may alias the
  // tile, and the compiler would reload them after each one.
  const __m512 zero = _mm512_setzero_ps();
  const __m512 lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  float* const y = t.y;
  const float* const z = t.z;
  const float* const row_bias = t.row_bias;
  const int64_t ldy = t.ldy, ws = t.ws, wo = t.wo, v0 = t.v0;
  const bool relu = e.relu, clip = e.clip;
  __m512 bias[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) bias[r] = row_bias ? _mm512_set1_ps(row_bias[r]) : zero;
  // Each output is act(sum + bias (+ z)); as in the packed micro-kernel,
  // max(0, x) keeps NaN and -0 (ReluFn's x < 0 ? 0 : x) and Clip passes NaN
  // through. Without a skip tensor the whole tile is finished here, one pass
  // per term, and the row runs below only store it: tested per vector in the
  // runs, the epilogue was 29 % of the kernel's samples on SqueezeNet's stem
  // (K = 27). A skip tensor is read per run, at the run's output positions.
  if (!z) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
      for (int h = 0; h < V; ++h) acc[r][h] = _mm512_add_ps(acc[r][h], bias[r]);
    }
    if (relu) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int h = 0; h < V; ++h) acc[r][h] = _mm512_max_ps(zero, acc[r][h]);
      }
    }
    if (clip) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int h = 0; h < V; ++h) acc[r][h] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc[r][h]));
      }
    }
  }
  const int64_t end = std::min(v0 + V * kLanes, t.v_end);
  if (ws >= V * kLanes) {
    // Rows at least as wide as the call: one row break at most among its
    // pixels. Each vector stores its lanes of the row it starts in under one
    // mask, and the vector the break falls in its lanes of the next row under
    // a second. Masks and offsets are worked out once per call, not per row
    // of W: with the runs below on the stems (K = 27, 8 rows x 48 pixels),
    // the stores' bookkeeping took a fifth of SqueezeNet's stem (perf).
    __mmask16 mask[V];
    int64_t offset[V];  // output pixel of lane 0, for the lanes of `mask`
    int split = V;      // the vector the break falls in, if any
    __mmask16 split_mask = 0;
    int64_t split_offset = 0;
    int64_t row = t.row, col = v0 - row * ws;
#pragma GCC unroll 3
    for (int h = 0; h < V; ++h, col += kLanes) {
      if (col >= ws) col -= ws, ++row;
      const int64_t v = v0 + kLanes * h;  // computed pixel (row, col) is output pixel v - row * (ws - wo)
      mask[h] = lane_range_mask(0, std::min(wo - col, end - v));
      offset[h] = v - row * (ws - wo);
      if (col + kLanes > ws) {
        split = h;
        split_mask = lane_range_mask(ws - col, std::min(ws - col + wo, end - v));
        split_offset = v - (row + 1) * (ws - wo);
      }
    }
    // (acc[r][split] is read with a constant h: an index known only at run
    // time would keep the accumulators in memory.)
    if (!z) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int h = 0; h < V; ++h) _mm512_mask_storeu_ps(at(y, r * ldy + offset[h]), mask[h], acc[r][h]);
      }
      if (split_mask) {
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
          for (int h = 0; h < V; ++h) {
            if (h == split) _mm512_mask_storeu_ps(at(y, r * ldy + split_offset), split_mask, acc[r][h]);
          }
        }
      }
      return;
    }
    // With a skip tensor each stored lane is finished here, from Z at its place.
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 6
      for (int h = 0; h < 2 * V; ++h) {
        const bool second = h >= V;
        const int hv = second ? h - V : h;
        const __mmask16 m = second ? (hv == split ? split_mask : 0) : mask[hv];
        if (!m) continue;
        const int64_t o = r * ldy + (second ? split_offset : offset[hv]);
        const __m512 skip = _mm512_maskz_loadu_ps(m, at(const_cast<float*>(z), o));
        __m512 out = _mm512_add_ps(_mm512_add_ps(acc[r][hv], bias[r]), skip);
        if (relu) out = _mm512_max_ps(zero, out);
        if (clip) out = _mm512_min_ps(hi, _mm512_max_ps(lo, out));
        _mm512_mask_storeu_ps(at(y, o), m, out);
      }
    }
    return;
  }
  // Narrower rows: the pixels in runs of one output row each (at most 16 V / Wo + 2 runs).
  for (int64_t row = t.row, v = v0; v < end; ++row, v = row * ws) {
    const int64_t row_end = std::min(row * ws + wo, end);
    if (v >= row_end) continue;
    const int64_t shift = row * (ws - wo);  // computed pixel v is output pixel v - shift
    const int64_t lane_lo = v - v0, lane_hi = row_end - v0;
    __mmask16 mask[V];
#pragma GCC unroll 3
    for (int h = 0; h < V; ++h) mask[h] = lane_range_mask(lane_lo - kLanes * h, lane_hi - kLanes * h);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
      for (int h = 0; h < V; ++h) {
        if (!mask[h]) continue;
        const int64_t offset = r * ldy + v0 + kLanes * h - shift;
        __m512 out = acc[r][h];
        if (z) {
          out = _mm512_add_ps(_mm512_add_ps(out, bias[r]),
                              _mm512_maskz_loadu_ps(mask[h], at(const_cast<float*>(z), offset)));
          if (relu) out = _mm512_max_ps(zero, out);
          if (clip) out = _mm512_min_ps(hi, _mm512_max_ps(lo, out));
        }
        _mm512_mask_storeu_ps(at(y, offset), mask[h], out);
      }
    }
  }
}

using TapKernel = void (*)(const TapTile&, const RegisterEpilogue&);

template <int V, int... R>
constexpr std::array<TapKernel, kTileRows + 1> tap_kernels(std::integer_sequence<int, R...>) {
  return {nullptr, tap_kernel<R + 1, V>...};
}
// [V][R]: R rows of W by V vectors of pixels. 3 vectors for tiles of up to 8
// rows (24 accumulators, as 12 x 2).
constexpr std::array<TapKernel, kTileRows + 1> kTapKernels2 = tap_kernels<2>(std::make_integer_sequence<int, kTileRows>{});
constexpr std::array<TapKernel, kTileRows + 1> kTapKernels3 = tap_kernels<3>(std::make_integer_sequence<int, 8>{});

#endif

// Task (band, plane): band-major, so the calling thread (dealt tasks from the
// front) makes the top rows, which its units (also from the front) read.
void split_task(const void* context, int64_t task) {
  const PlaneJob& job = *static_cast<const PlaneJob*>(context);
  const ConvGeometry& g = *job.g;
  const float* x = job.args->x + job.image * g.in_channels * g.in_pixels();
  const int64_t hs = job.l->hs;
  if (job.l->sw == 2) {  // a task per (band, channel): every plane of the channel
    const int64_t band = task / g.in_channels;
    split_channel_stride2(g, *job.l, x, task % g.in_channels, hs * band / job.bands, hs * (band + 1) / job.bands,
                          job.planes);
    return;
  }
  const int64_t planes = g.in_channels * job.l->sh * job.l->sw, band = task / planes;
  split_plane(g, *job.l, x, task % planes, hs * band / job.bands, hs * (band + 1) / job.bands, job.planes);
}

// A unit: a block of panels of the current image, a chunk of W's row tiles.
// Each row tile runs along the whole block before the next one starts, so it
// writes its channel rows in long runs while the block's taps stay in L1/L2.
void plane_unit(const void* context, int64_t unit) {
#if ONNX_MINI_HAVE_PHASE_PLANES
  const PlaneJob& job = *static_cast<const PlaneJob*>(context);
  const ConvGeometry& g = *job.g;
  const PackedWeights& w = *job.w;
  const PlaneLayout& l = *job.l;
  const ConvRunArgs& args = *job.args;
  const int64_t chunk = unit % job.tile_chunks, block = unit / job.tile_chunks;
  const int64_t tile_begin = chunk * job.tiles_per_chunk;
  const int64_t tile_end = std::min(w.tiles_per_group(), tile_begin + job.tiles_per_chunk);
  const int64_t panel_begin = block * job.panels_per_block;
  const int64_t panel_end = std::min(job.panels, panel_begin + job.panels_per_block);
  const int64_t P = g.out_pixels(), T = w.tile_rows();
  TapTile t{};
  t.a_stride = T;
  t.tap_offset = l.tap_offset.data();
  t.depth = l.depth;
  t.ldy = P;
  t.ws = l.ws;
  t.wo = l.wo;
  t.v_end = l.virtual_pixels();
  for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
    const int64_t ch0 = tile * T, rows = std::min(T, g.out_channels - ch0);
    const int64_t plane0 = (job.image * g.out_channels + ch0) * P;
    t.a = w.row_tile(0, tile);
    t.y = args.y + plane0;
    t.z = args.z ? args.z + plane0 : nullptr;
    t.row_bias = args.bias ? args.bias + ch0 : nullptr;
    t.row = panel_begin * job.panel_width / l.ws;
    const TapKernel kernel = job.panel_width == 3 * kLanes ? kTapKernels3[rows] : kTapKernels2[rows];
    for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
      t.v0 = panel * job.panel_width;
      t.x = job.planes + t.v0;
      while (t.v0 >= (t.row + 1) * l.ws) ++t.row;
      kernel(t, job.form);
    }
  }
#else
  (void)context, (void)unit;  // needs supported(): never reached
#endif
}

}  // namespace

bool phase_planes_can_run(const ConvGeometry& g, const ConvRunArgs& args) {
  if (g.spatial > 2 || g.group != 1 || g.in[0] != 1) return false;
  RegisterEpilogue form;
  if (!args.epilogue->register_form(&form)) return false;
  if (g.in_channels * g.kernel[1] * g.kernel[2] > kMaxPatchPanelDepth) return false;
  // Every stride phase gets a plane, read or not: strides up to 8 (and no
  // product below overflows); the stems have 1, 2 and 4.
  if (g.stride[1] > kMaxStride || g.stride[2] > kMaxStride) return false;
  if (g.out[1] > kMaxPlaneFloats || g.out[2] > kMaxPlaneFloats || g.in[1] > kMaxPlaneFloats) return false;
  const PlaneLayout l = layout_of(g);
  return l.ws * 100 <= l.wo * 115 && l.floats <= kMaxPlaneFloats;
}

void run_phase_planes(const ConvGeometry& g, const PackedWeights& w, const ConvRunArgs& args) {
  PlaneLayout l = layout_of(g);
  fill_tap_offsets(g, l);
  PlaneJob job{.g = &g, .w = &w, .args = &args, .l = &l};
  args.epilogue->register_form(&job.form);
  float* planes = thread_scratch(ScratchSlot::kPhasePlanes, l.floats);
  const int64_t planes_floats = g.in_channels * l.sh * l.sw * l.plane_floats();
  // The slack past the planes is read only for pixels never stored; zero so
  // nothing reads memory never written.
  std::fill(planes + planes_floats, planes + l.floats, 0.0f);
  job.planes = planes;
  job.panel_width = (w.tile_rows() <= 8 ? 3 : 2) * kLanes;
  job.panels = (l.virtual_pixels() + job.panel_width - 1) / job.panel_width;
  job.panels_per_block = std::clamp<int64_t>(kBlockFloats / (l.depth * job.panel_width), 1, job.panels);
  job.blocks = (job.panels + job.panels_per_block - 1) / job.panels_per_block;
  const int64_t tiles = w.tiles_per_group();
  const int64_t want = kUnitsPerThread * (args.pool ? args.pool->num_threads() : 1);
  // Few blocks (a small image): the row tiles of W are split too.
  if (job.blocks < want) job.tile_chunks = std::min(tiles, (want + job.blocks - 1) / job.blocks);
  job.tiles_per_chunk = (tiles + job.tile_chunks - 1) / job.tile_chunks;
  job.tile_chunks = (tiles + job.tiles_per_chunk - 1) / job.tiles_per_chunk;
  const int64_t plane_count = g.in_channels * l.sh * l.sw;
  for (job.image = 0; job.image < g.batch; ++job.image) {
    // Small inputs are split on the calling thread: a dispatch costs more.
    // Split over the threads, each makes a band of rows of every plane: the
    // rows its own units read next (they take pixel blocks from the two ends
    // too), not whole planes half of which the other thread's units read from
    // this core's cache. Stems on 2 threads: SqueezeNet's 223 against 232 us
    // (six alternated rounds), MobileNetV2's 158 against 165 (four).
    const bool split_over_threads = planes_floats >= (int64_t{1} << 15) && args.pool;
    job.bands = split_over_threads ? args.pool->num_threads() : 1;
    const int64_t split_tasks = l.sw == 2 ? g.in_channels : plane_count;
    for_each_task(split_over_threads ? args.pool : nullptr, split_tasks * job.bands, split_task, &job);
    for_each_task(args.pool, job.blocks * job.tile_chunks, plane_unit, &job);
  }
}

}  // namespace onnx_mini
