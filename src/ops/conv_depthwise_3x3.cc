#include "ops/conv_depthwise_3x3.h"

#include <algorithm>

#include "ops/lane_mask.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_DEPTHWISE_3X3 1
#else
#define ONNX_MINI_HAVE_DEPTHWISE_3X3 0
#endif

namespace onnx_mini {

// Output chunks per row at most (a stack array of their masks): rows up to
// 1024 output columns; wider ones run on the general depthwise kernel.
constexpr int64_t kMaxOutWidth = 1024;

bool depthwise_3x3_applies(const ConvGeometry& g) {
  return ONNX_MINI_HAVE_DEPTHWISE_3X3 && g.spatial == 2 && g.kernel[1] == 3 && g.kernel[2] == 3 &&
         g.dilation[1] == 1 && g.dilation[2] == 1 && (g.stride[2] == 1 || g.stride[2] == 2) &&
         g.out[2] <= kMaxOutWidth;
}

#if ONNX_MINI_HAVE_DEPTHWISE_3X3
namespace {

constexpr int64_t kLanes = 16;

// The input rows one output row reads: row kh at rows[kh] for kh in [first, end)
// (the others lie in the vertical padding).
struct KernelRows {
  const float* rows[3];
  int first, end;
};

// Where a chunk's taps lie: inside the input row (plain loads), or across its
// border, with the masks of its loads (zero lanes read as padding).
// (No initializers: a plane fills only the chunks its rows have.)
struct ChunkMasks {
  bool inside;
  // Stride 1: the 16 values from start (first chunk only: later chunks get
  // them from the chunk before), the 16 after them. Stride 2: the 32 values
  // from start, then the one after them.
  __mmask16 load[3];
  __mmask16 out;      // the output columns the chunk stores
};

// The three tap vectors of one input row for the chunk whose first tap column
// is `start` (= ox * stride - pad_left): tap kw of output column ox + j reads
// row[start + kw + j * S]. kMasked: loads masked by m. Stride 1: `carry` holds
// the row's 16 values from start (loaded by the chunk before) and gets the 16
// after them, from which the taps kw = 1, 2 are the 16 values 1 and 2 lanes
// on: one load per input row and chunk, not three.
template <int S, bool kMasked>
__attribute__((target("avx512f"))) inline void row_taps(const float* row, int64_t start, const ChunkMasks& m,
                                                       __m512 v[3], __m512& carry) {
  if constexpr (S == 1) {
    const __m512 next = kMasked ? _mm512_maskz_loadu_ps(m.load[1], row + start + kLanes)
                                : _mm512_loadu_ps(row + start + kLanes);
    const __m512i now = _mm512_castps_si512(carry), after = _mm512_castps_si512(next);
    v[0] = carry;
    v[1] = _mm512_castsi512_ps(_mm512_alignr_epi32(after, now, 1));
    v[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(after, now, 2));
    carry = next;
  } else {
    // 32 consecutive values split into even columns (kw = 0) and odd ones
    // (kw = 1); kw = 2 is the even columns one lane on, whose last lane is
    // the value after the 32.
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    __m512 lo, hi, next;
    if constexpr (kMasked) {
      lo = _mm512_maskz_loadu_ps(m.load[0], row + start);
      hi = _mm512_maskz_loadu_ps(m.load[1], row + start + kLanes);
      next = _mm512_maskz_loadu_ps(m.load[2], row + start + 2 * kLanes);
    } else {
      lo = _mm512_loadu_ps(row + start);
      hi = _mm512_loadu_ps(row + start + kLanes);
      next = _mm512_castps128_ps512(_mm_load_ss(row + start + 2 * kLanes));
    }
    v[0] = _mm512_permutex2var_ps(lo, even, hi);
    v[1] = _mm512_permutex2var_ps(lo, odd, hi);
    v[2] = _mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(v[0]), 1));
  }
}

// The 16 sums of one chunk: bias + every in-range kernel row's three taps, one
// accumulator per kernel row. kAllRows: no kernel row lies in the padding.
template <int S, bool kMasked, bool kAllRows>
__attribute__((target("avx512f"))) inline __m512 chunk_sum(const KernelRows& k, const __m512 w[9], __m512 bias,
                                                           int64_t start, const ChunkMasks& m, __m512 carry[3]) {
  __m512 acc[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
#pragma GCC unroll 3
  for (int kh = 0; kh < 3; ++kh) {
    if (!kAllRows && (kh < k.first || kh >= k.end)) continue;
    __m512 v[3];
    row_taps<S, kMasked>(k.rows[kh], start, m, v, carry[kh]);
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; ++kw) acc[kh] = _mm512_fmadd_ps(w[kh * 3 + kw], v[kw], acc[kh]);
  }
  return _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), acc[2]);
}

constexpr int64_t kMaxChunks = kMaxOutWidth / kLanes;

struct RowJob {
  const ConvGeometry* g;
  const __m512* w;
  __m512 bias;
  const ChunkMasks* masks;  // [chunks]
  const RegisterEpilogue* form;
  bool in_registers;
};

// One output row: every chunk summed, the register epilogue applied, stored.
template <int S, bool kAllRows>
__attribute__((target("avx512f"))) void output_row(const RowJob& job, const KernelRows& k, const float* z, float* y) {
  const ConvGeometry& g = *job.g;
  const int64_t out_width = g.out[2], pad = g.pad_begin[2];
  const RegisterEpilogue& e = *job.form;
  const bool relu = job.in_registers && e.relu, clip = job.in_registers && e.clip;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  // (Indexed by constants only, so the carries stay in registers.)
  __m512 carry[3];
#pragma GCC unroll 3
  for (int kh = 0; kh < 3; ++kh) {
    const bool used = S == 1 && (kAllRows || (kh >= k.first && kh < k.end));
    carry[kh] = used ? _mm512_maskz_loadu_ps(job.masks[0].load[0], k.rows[kh] - pad) : _mm512_setzero_ps();
  }
  for (int64_t ox = 0, c = 0; ox < out_width; ox += kLanes, ++c) {
    const int64_t start = ox * S - pad;
    const ChunkMasks& m = job.masks[c];
    __m512 sum = m.inside ? chunk_sum<S, false, kAllRows>(k, job.w, job.bias, start, m, carry)
                          : chunk_sum<S, true, kAllRows>(k, job.w, job.bias, start, m, carry);
    if (z) sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(m.out, z + ox));
    if (relu) sum = _mm512_max_ps(zero, sum);
    if (clip) sum = _mm512_min_ps(hi, _mm512_max_ps(lo, sum));
    _mm512_mask_storeu_ps(y + ox, m.out, sum);
  }
}

// The two sums of one chunk of two neighbouring output rows (stride 1 both
// ways, every kernel row inside the input): rows[0..3] their four input rows,
// each row's taps made once and fed to both outputs it serves.
template <bool kMasked>
__attribute__((target("avx512f"))) inline void chunk_pair(const float* const rows[4], const __m512 w[9], __m512 bias,
                                                          int64_t start, const ChunkMasks& m, __m512 carry[4],
                                                          __m512& upper, __m512& lower) {
  __m512 a[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 b[3] = {bias, _mm512_setzero_ps(), _mm512_setzero_ps()};
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) {
    __m512 v[3];
    row_taps<1, kMasked>(rows[r], start, m, v, carry[r]);
#pragma GCC unroll 3
    for (int kw = 0; kw < 3; ++kw) {
      if (r < 3) a[r] = _mm512_fmadd_ps(w[r * 3 + kw], v[kw], a[r]);
      if (r > 0) b[r - 1] = _mm512_fmadd_ps(w[(r - 1) * 3 + kw], v[kw], b[r - 1]);
    }
  }
  upper = _mm512_add_ps(_mm512_add_ps(a[0], a[1]), a[2]);
  lower = _mm512_add_ps(_mm512_add_ps(b[0], b[1]), b[2]);
}

// Output rows y and y + out_width from input rows rows[0..3]: a third fewer
// loads and lane shifts per output than two output_row calls.
__attribute__((target("avx512f"))) void output_row_pair(const RowJob& job, const float* const rows[4], const float* z,
                                                        float* y) {
  const int64_t out_width = job.g->out[2], pad = job.g->pad_begin[2];
  const RegisterEpilogue& e = *job.form;
  const bool relu = job.in_registers && e.relu, clip = job.in_registers && e.clip;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  __m512 carry[4];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r) carry[r] = _mm512_maskz_loadu_ps(job.masks[0].load[0], rows[r] - pad);
  for (int64_t ox = 0, c = 0; ox < out_width; ox += kLanes, ++c) {
    const ChunkMasks& m = job.masks[c];
    __m512 upper, lower;
    if (m.inside) {
      chunk_pair<false>(rows, job.w, job.bias, ox - pad, m, carry, upper, lower);
    } else {
      chunk_pair<true>(rows, job.w, job.bias, ox - pad, m, carry, upper, lower);
    }
    if (z) {
      upper = _mm512_add_ps(upper, _mm512_maskz_loadu_ps(m.out, z + ox));
      lower = _mm512_add_ps(lower, _mm512_maskz_loadu_ps(m.out, z + out_width + ox));
    }
    if (relu) {
      upper = _mm512_max_ps(zero, upper);
      lower = _mm512_max_ps(zero, lower);
    }
    if (clip) {
      upper = _mm512_min_ps(hi, _mm512_max_ps(lo, upper));
      lower = _mm512_min_ps(hi, _mm512_max_ps(lo, lower));
    }
    _mm512_mask_storeu_ps(y + ox, m.out, upper);
    _mm512_mask_storeu_ps(y + out_width + ox, m.out, lower);
  }
}

template <int S>
__attribute__((target("avx512f"))) void plane_rows(const ConvGeometry& g, const DepthwisePlane& p,
                                                   const ChunkMasks* masks, const RegisterEpilogue& form,
                                                   bool in_registers, const ConvEpilogue& epilogue) {
  __m512 w[9];
  for (int i = 0; i < 9; ++i) w[i] = _mm512_set1_ps(p.w[i]);
  const RowJob job{&g, w, _mm512_set1_ps(p.bias), masks, &form, in_registers};
  const int64_t height = g.in[1], width = g.in[2], out_width = g.out[2];
  for (int64_t oh = 0; oh < g.out[1]; ++oh) {
    const int64_t top = oh * g.stride[1] - g.pad_begin[1];
    // (The test reads `top`, not k's fields just stored: a compiler may read
    // the two ints back as one 8-byte load, which the store buffer cannot
    // forward, a stall per row that cost a third of the time on 14x14 planes.)
    const bool all_rows = top >= 0 && top + 3 <= height;
    if (S == 1 && g.stride[1] == 1 && top >= 0 && top + 4 <= height && oh + 1 < g.out[1]) {
      const float* rows[4] = {p.x + top * width, p.x + (top + 1) * width, p.x + (top + 2) * width,
                              p.x + (top + 3) * width};
      float* y = p.y + oh * out_width;
      output_row_pair(job, rows, p.z ? p.z + oh * out_width : nullptr, y);
      if (!in_registers) epilogue.apply(y, out_width, 2, out_width, nullptr, nullptr, 0);
      ++oh;
      continue;
    }
    KernelRows k;
    k.first = static_cast<int>(std::clamp<int64_t>(-top, 0, 3));
    k.end = static_cast<int>(std::clamp<int64_t>(height - top, 0, 3));
    for (int kh = 0; kh < 3; ++kh) k.rows[kh] = kh >= k.first && kh < k.end ? p.x + (top + kh) * width : p.x;
    float* y = p.y + oh * out_width;
    const float* z = p.z ? p.z + oh * out_width : nullptr;
    if (all_rows) {
      output_row<S, true>(job, k, z, y);
    } else {
      output_row<S, false>(job, k, z, y);
    }
    if (!in_registers) epilogue.apply(y, 0, 1, out_width, nullptr, nullptr, 0);
  }
}

// Every chunk's masks, the same for every row and plane.
void chunk_masks(const ConvGeometry& g, ChunkMasks* masks) {
  const int64_t width = g.in[2], out_width = g.out[2], s = g.stride[2];
  for (int64_t ox = 0, c = 0; ox < out_width; ox += kLanes, ++c) {
    const int64_t start = ox * s - g.pad_begin[2];
    ChunkMasks& m = masks[c];
    m.out = lanes_within(ox, out_width);
    if (s == 1) {
      // Loads the 16 values after start .. start + 15.
      m.inside = start + kLanes >= 0 && start + 2 * kLanes - 1 < width;
      m.load[0] = lanes_within(start, width);
      m.load[1] = lanes_within(start + kLanes, width);
      m.load[2] = 0;
    } else {
      // 32 values from start, and the one after them.
      m.inside = start >= 0 && start + 2 * kLanes < width;
      m.load[0] = lanes_within(start, width);
      m.load[1] = lanes_within(start + kLanes, width);
      m.load[2] = lanes_within(start + 2 * kLanes, width) & 1;
    }
  }
}

}  // namespace

void depthwise_3x3_plane(const ConvGeometry& g, const DepthwisePlane& p, const RegisterEpilogue& form,
                         bool in_registers, const ConvEpilogue& epilogue) {
  ChunkMasks masks[kMaxChunks];
  chunk_masks(g, masks);
  if (g.stride[2] == 1) {
    plane_rows<1>(g, p, masks, form, in_registers, epilogue);
  } else {
    plane_rows<2>(g, p, masks, form, in_registers, epilogue);
  }
}

#else

void depthwise_3x3_plane(const ConvGeometry&, const DepthwisePlane&, const RegisterEpilogue&, bool,
                         const ConvEpilogue&) {}  // depthwise_3x3_applies() is false: never reached

#endif

}  // namespace onnx_mini
