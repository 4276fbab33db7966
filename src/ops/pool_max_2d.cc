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
// Row buffer floats (16 KiB, on the stack of the thread running the task):
// rows whose padded span and the last chunk's over-read fit.
constexpr int64_t kRowBuffer = 4096;

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

// Buffer entries the horizontal pass may read: every chunk of 16 outputs
// reads up to 16 * stride + kernel - 1 entries from its first tap.
int64_t buffer_reach(const AxisWindow& w) {
  const int64_t chunks = (w.out + kLanes - 1) / kLanes;
  return chunks * kLanes * w.stride + kLanes;
}

}  // namespace

bool max_pool_2d_applies(const WindowGeometry& g) {
  if (!cpu_has_avx512f() || g.rank != 2) return false;
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  return axis_fits(h) && axis_fits(w) && buffer_reach(w) <= kRowBuffer && h.out > 0 && w.out > 0;
}

#if ONNX_MINI_HAVE_MAX_POOL_2D
namespace {

#define OM_AVX512 __attribute__((target("avx512f")))

// max(a, b), NaN when either is NaN: vmaxps returns b when either is NaN, so
// the lanes where a is NaN keep a.
OM_AVX512 inline __m512 max_nan(__m512 a, __m512 b) {
  return _mm512_mask_max_ps(a, _mm512_cmp_ps_mask(a, a, _CMP_ORD_Q), a, b);
}

__mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((uint32_t{1} << n) - 1); }

// Where one plane's rows land in the row buffer: buf[j] holds input column
// c0 + j; columns outside [lo, hi) are padding (or never read) and stay -inf.
struct RowSpan {
  int64_t c0, lo, hi;
};
RowSpan row_span(const AxisWindow& w) {
  const int64_t c0 = w.start(0), span = (w.out - 1) * w.stride + w.kernel;
  const int64_t lo = std::clamp<int64_t>(-c0, 0, span);
  return {c0, lo, std::clamp<int64_t>(w.in - c0, lo, span)};
}

// buf[lo + i] = max over the `n_rows` rows of rows[r][i], i < n.
OM_AVX512 void vertical_max(const float* const* rows, int n_rows, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    __m512 v = _mm512_loadu_ps(rows[0] + i);
    for (int r = 1; r < n_rows; ++r) v = max_nan(v, _mm512_loadu_ps(rows[r] + i));
    _mm512_storeu_ps(out + i, v);
  }
  if (i == n) return;
  const __mmask16 m = first_lanes(n - i);
  __m512 v = _mm512_maskz_loadu_ps(m, rows[0] + i);
  for (int r = 1; r < n_rows; ++r) v = max_nan(v, _mm512_maskz_loadu_ps(m, rows[r] + i));
  _mm512_mask_storeu_ps(out + i, m, v);
}

// The taps of 16 outputs from buf + 16 * stride * chunk: tap k of output j is
// buf[j * S + k]. Stride 2 deinterleaves 32 entries into even and odd lanes.
template <int kS, int kK>
OM_AVX512 inline __m512 window_max(const float* b) {
  if constexpr (kS == 1) {
    __m512 v = max_nan(_mm512_loadu_ps(b), _mm512_loadu_ps(b + 1));
    if constexpr (kK == 3) v = max_nan(v, _mm512_loadu_ps(b + 2));
    return v;
  } else {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512 lo = _mm512_loadu_ps(b), hi = _mm512_loadu_ps(b + 16);
    __m512 v = max_nan(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi));
    if constexpr (kK == 3) {
      v = max_nan(v, _mm512_permutex2var_ps(_mm512_loadu_ps(b + 2), even, _mm512_loadu_ps(b + 18)));
    }
    return v;
  }
}

template <int kS, int kK>
OM_AVX512 void horizontal_max(const float* buf, float* y, int64_t n) {
  int64_t o = 0;
  for (; o + kLanes <= n; o += kLanes) _mm512_storeu_ps(y + o, window_max<kS, kK>(buf + o * kS));
  if (o < n) _mm512_mask_storeu_ps(y + o, first_lanes(n - o), window_max<kS, kK>(buf + o * kS));
}

using HorizontalFn = void (*)(const float*, float*, int64_t);
HorizontalFn horizontal_for(const AxisWindow& w) {
  if (w.stride == 1) return w.kernel == 2 ? horizontal_max<1, 2> : horizontal_max<1, 3>;
  return w.kernel == 2 ? horizontal_max<2, 2> : horizontal_max<2, 3>;
}

OM_AVX512 void plane(const float* x, float* y, const WindowGeometry& g, const RowSpan& s, float* buf,
                     HorizontalFn horizontal) {
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  const float* rows[3];
  for (int64_t oh = 0; oh < h.out; ++oh) {
    const int64_t top = h.start(oh);
    int n_rows = 0;
    for (int64_t r = std::max<int64_t>(top, 0); r < std::min(top + h.kernel, h.in); ++r) {
      rows[n_rows++] = x + r * w.in + s.c0 + s.lo;
    }
    vertical_max(rows, n_rows, s.hi - s.lo, buf + s.lo);
    horizontal(buf, y + oh * w.out, w.out);
  }
}

}  // namespace

void max_pool_2d_planes(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  alignas(64) float buf[kRowBuffer];
  const AxisWindow& w = g.axes[1];
  const RowSpan s = row_span(w);
  std::fill(buf, buf + buffer_reach(w), -std::numeric_limits<float>::infinity());
  const HorizontalFn horizontal = horizontal_for(w);
  const int64_t in_size = g.axes[0].in * w.in, out_size = g.axes[0].out * w.out;
  for (int64_t p = first; p < first + count; ++p) plane(x + p * in_size, y + p * out_size, g, s, buf, horizontal);
}

#else

// Never called: max_pool_2d_applies is false without x86-64, so pool_loops runs.
void max_pool_2d_planes(const float*, float*, int64_t, int64_t, const WindowGeometry&) {}

#endif

}  // namespace onnx_mini
