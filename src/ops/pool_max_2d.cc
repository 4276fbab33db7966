#include "ops/pool_max_2d.h"

#include <algorithm>
#include <limits>

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_MAX_POOL_2D 1
#else
#define ONNX_MINI_HAVE_MAX_POOL_2D 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kLanes = 16;

bool cpu_has_avx512f() {
#if ONNX_MINI_HAVE_MAX_POOL_2D
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
#else
  return false;
#endif
}

bool axis_fits(const AxisWindow& w) {
  return (w.kernel == 2 || w.kernel == 3) && (w.stride == 1 || w.stride == 2) && w.dilation == 1;
}

}  // namespace

bool max_pool_2d_applies(const WindowGeometry& g) {
  if (!cpu_has_avx512f() || g.rank != 2) return false;
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  return axis_fits(h) && axis_fits(w) && h.out > 0 && w.out > 0;
}

#if ONNX_MINI_HAVE_MAX_POOL_2D
namespace {

#define OM_AVX512 __attribute__((target("avx512f")))

// max(a, b), NaN when either is NaN: vmaxps returns b when either is NaN, so
// the lanes where a is NaN keep a. (VRANGEPS returns the other operand of a
// quiet NaN, so it cannot do this in one instruction.)
OM_AVX512 inline __m512 max_nan(__m512 a, __m512 b) {
  return _mm512_mask_max_ps(a, _mm512_cmp_ps_mask(a, a, _CMP_ORD_Q), a, b);
}

// Lanes [shift, 16) of lo followed by lanes [0, shift) of hi: the 16 columns
// `shift` to the right of lo's.
template <int kShift>
OM_AVX512 inline __m512 shifted(__m512 lo, __m512 hi) {
  // The all-lanes maskz form: the same instruction, without the plain form's
  // undefined pass-through operand (g++ 12 warns it may be uninitialized).
  const __m512i lanes = _mm512_maskz_alignr_epi32(0xffff, _mm512_castps_si512(hi), _mm512_castps_si512(lo), kShift);
  return _mm512_castsi512_ps(lanes);
}

// The lanes i of 16 columns from input column `col` with 0 <= col + i < in.
inline __mmask16 columns_within(int64_t col, int64_t in) {
  const int64_t lo = std::clamp<int64_t>(-col, 0, kLanes), hi = std::clamp<int64_t>(in - col, 0, kLanes);
  const uint32_t inside = (uint32_t{1} << hi) - 1, before = (uint32_t{1} << lo) - 1;
  return static_cast<__mmask16>(inside & ~before);
}

// The window's input rows (1 to 3 of them, rows clipped by padding left out).
struct WindowRows {
  const float* row[3];
  int count;
};

// Max down the window's rows of the 16 columns from `col`. kInside: they all
// lie on the row, plain loads; else -inf where a column is padding or past
// the row (masked loads: nothing outside the row is read).
template <bool kInside>
OM_AVX512 inline __m512 column_max(const WindowRows& rows, int64_t col, int64_t in) {
  if constexpr (kInside) {
    __m512 v = _mm512_loadu_ps(rows.row[0] + col);
    for (int r = 1; r < rows.count; ++r) v = max_nan(v, _mm512_loadu_ps(rows.row[r] + col));
    return v;
  } else {
    const __mmask16 m = columns_within(col, in);
    const __m512 none = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    if (!m) return none;
    __m512 v = _mm512_mask_loadu_ps(none, m, rows.row[0] + col);
    for (int r = 1; r < rows.count; ++r) v = max_nan(v, _mm512_mask_loadu_ps(none, m, rows.row[r] + col));
    return v;
  }
}

// The column maxima that 16 outputs from input column c start their windows
// at: stride 1, columns c..c+15 (first); stride 2, the even columns
// c, c+2, .., c+30 (first) and the odd ones (second).
struct Starts {
  __m512 first, second;
};

template <int kS, bool kInside>
OM_AVX512 inline Starts starts_of(const WindowRows& rows, int64_t c, int64_t in) {
  if constexpr (kS == 1) {
    return {column_max<kInside>(rows, c, in), __m512{}};
  } else {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 lo = column_max<kInside>(rows, c, in), hi = column_max<kInside>(rows, c + kLanes, in);
    return {_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi)};
  }
}

// Plain loads for the chunks whose 16 * kS columns lie on the row (all but
// the first and the last one or two), masked ones at the edges.
template <int kS>
OM_AVX512 inline Starts starts(const WindowRows& rows, int64_t c, int64_t in) {
  if (c >= 0 && c + kLanes * kS <= in) return starts_of<kS, true>(rows, c, in);
  return starts_of<kS, false>(rows, c, in);
}

// One output row: the columns' maxima are combined in registers, the window's
// later taps taken from the next 16 outputs' starts by a lane shift (one
// column at stride 1, one even column at stride 2), so no intermediate row is
// stored and read back.
template <int kS, int kK>
OM_AVX512 inline void row_max(const WindowRows& rows, const AxisWindow& w, float* y) {
  // Whether the window reaches into the next 16 outputs' starts (all but kernel 2, stride 2).
  constexpr bool kReachesNext = kS == 1 || kK == 3;
  int64_t c = w.start(0);
  Starts cur{}, next{};
  if constexpr (kReachesNext) cur = starts<kS>(rows, c, w.in);
  for (int64_t o = 0; o < w.out; o += kLanes, c += kLanes * kS) {
    if constexpr (kReachesNext) {
      next = starts<kS>(rows, c + kLanes * kS, w.in);
    } else {
      cur = starts<kS>(rows, c, w.in);
    }
    __m512 v;
    if constexpr (kS == 1) {
      v = max_nan(cur.first, shifted<1>(cur.first, next.first));
      if constexpr (kK == 3) v = max_nan(v, shifted<2>(cur.first, next.first));
    } else {
      v = max_nan(cur.first, cur.second);
      if constexpr (kK == 3) v = max_nan(v, shifted<1>(cur.first, next.first));
    }
    if (o + kLanes <= w.out) {
      _mm512_storeu_ps(y + o, v);
    } else {
      _mm512_mask_storeu_ps(y + o, columns_within(o, w.out), v);
    }
    cur = next;
  }
}

// Planes [first, first + count), row by row; one function per kernel and
// stride, so a short row (13 outputs at 27x27) costs no call of its own.
template <int kS, int kK>
OM_AVX512 void planes_max(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  const int64_t in_size = h.in * w.in, out_size = h.out * w.out;
  for (int64_t p = first; p < first + count; ++p) {
    const float* plane = x + p * in_size;
    for (int64_t oh = 0; oh < h.out; ++oh) {
      const int64_t top = h.start(oh);
      WindowRows rows{{}, 0};
      for (int64_t r = std::max<int64_t>(top, 0); r < std::min(top + h.kernel, h.in); ++r) {
        rows.row[rows.count++] = plane + r * w.in;
      }
      row_max<kS, kK>(rows, w, y + p * out_size + oh * w.out);
    }
  }
}

}  // namespace

void max_pool_2d_planes(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  const AxisWindow& w = g.axes[1];
  if (w.stride == 1) {
    return w.kernel == 2 ? planes_max<1, 2>(x, y, first, count, g) : planes_max<1, 3>(x, y, first, count, g);
  }
  return w.kernel == 2 ? planes_max<2, 2>(x, y, first, count, g) : planes_max<2, 3>(x, y, first, count, g);
}

#else

// Never called: max_pool_2d_applies is false without x86-64, so pool_loops runs.
void max_pool_2d_planes(const float*, float*, int64_t, int64_t, const WindowGeometry&) {}

#endif

}  // namespace onnx_mini
