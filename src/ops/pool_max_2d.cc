#include "ops/pool_max_2d.h"

#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>

#include "ops/lane_mask.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_MAX_POOL_2D 1
#else
#define ONNX_MINI_HAVE_MAX_POOL_2D 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kLanes = 16;
// How many output rows ahead the input rows are prefetched.
constexpr int64_t kPrefetchRows = 5;

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

// The two ways to take a max. PlainMax is one vmaxps, which returns its
// second operand when either is NaN, so a NaN in the first is lost; the planes
// run with it while NanWatch proves their input holds no NaN, and run again
// with NanMax (NaN when either is NaN: the lanes where a is NaN keep a) when it
// does. VRANGEPS returns the other operand of a quiet NaN, so it cannot do
// NanMax in one instruction either.
struct PlainMax {
  // The all-lanes maskz form of vmaxps, as in shifted (g++ 12 warns of the
  // plain form's undefined pass-through operand).
  OM_AVX512 static __m512 max(__m512 a, __m512 b) { return _mm512_maskz_max_ps(0xffff, a, b); }
};
struct NanMax {
  OM_AVX512 static __m512 max(__m512 a, __m512 b) {
    return _mm512_mask_max_ps(a, _mm512_cmp_ps_mask(a, a, _CMP_ORD_Q), a, b);
  }
};

// Lanes with no NaN among every input vector checked so far, one mask per
// 16-column half of a chunk so that the checks of a chunk do not wait on
// each other (each is a compare that ANDs into its mask).
struct NanWatch {
  __mmask16 lo = 0xffff, hi = 0xffff;
  bool clean() const { return (lo & hi) == 0xffff; }
};

// Lanes [shift, 16) of lo followed by lanes [0, shift) of hi: the 16 columns
// `shift` to the right of lo's.
template <int kShift>
OM_AVX512 inline __m512 shifted(__m512 lo, __m512 hi) {
  // The all-lanes maskz form: the same instruction, without the plain form's
  // undefined pass-through operand (g++ 12 warns it may be uninitialized).
  const __m512i lanes = _mm512_maskz_alignr_epi32(0xffff, _mm512_castps_si512(hi), _mm512_castps_si512(lo), kShift);
  return _mm512_castsi512_ps(lanes);
}

// What every row of the call shares, worked out once: the first column the
// row's windows read (negative under left padding), the load masks of the
// 16-column input vectors the row loop reads (every vector the same way, so a
// row costs no bound checks and no branches), how many of the row's
// 16-output vectors are whole, and how many chunks (of vectors_per_chunk
// input vectors) hold a column of the row: the last output vector's next
// chunk often lies past it (27 columns at stride 2 fill one chunk of 32),
// and its starts are -inf without loading anything.
struct RowPlan {
  // Masks kept for rows of up to about 1000 columns, those of longer rows
  // past them worked out as they are read: a fixed array, as a session's
  // steady-state run allocates nothing.
  static constexpr int64_t kKeptMasks = 64;

  int64_t first_col = 0, in = 0, out = 0, whole_outputs = 0, chunks_on_row = 0;
  std::array<__mmask16, kKeptMasks> kept_mask{};

  RowPlan(const AxisWindow& w, int vectors_per_chunk, bool reads_next_chunk)
      : first_col(w.start(0)), in(w.in), out(w.out), whole_outputs(w.out / kLanes * kLanes) {
    const int64_t chunks = (w.out + kLanes - 1) / kLanes + (reads_next_chunk ? 1 : 0);
    // The chunk holding the row's last column (first_col <= 0 < in).
    chunks_on_row = std::min(chunks, (in - 1 - first_col) / (kLanes * vectors_per_chunk) + 1);
    for (int64_t v = 0; v < kKeptMasks; ++v) {
      kept_mask[static_cast<size_t>(v)] = lanes_within(first_col + v * kLanes, in);
    }
  }

  __mmask16 load_mask(int64_t v) const {
    return v < kKeptMasks ? kept_mask[static_cast<size_t>(v)] : lanes_within(first_col + v * kLanes, in);
  }
};

// The input rows of kOut output rows read together: 1, or 2 when the windows
// stride 2 rows down, output row i's window being rows [2i, 2i + kKH) of the
// set (a 3-row pair shares its middle row: 5 rows loaded for 2 output rows).
// A row clipped by padding or ceil_mode is replaced by a real row of the same
// window, max(a, a) = a, so every window takes kKH rows.
template <int kKH, int kOut>
struct RowSet {
  static constexpr int kRows = kKH + 2 * (kOut - 1);
  const float* row[kRows];
};

// The 16 columns of input vector v of each row of a set, -inf where a column
// is padding or past the row (masked loads read nothing outside the row).
template <int kRows>
struct Column {
  __m512 row[kRows];
};

template <int kKH, int kOut>
OM_AVX512 inline auto load_column(const RowSet<kKH, kOut>& rows, const RowPlan& plan, int64_t v) {
  const __m512 none = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const __mmask16 m = plan.load_mask(v);
  const int64_t col = plan.first_col + v * kLanes;
  Column<RowSet<kKH, kOut>::kRows> c;
  for (int r = 0; r < RowSet<kKH, kOut>::kRows; ++r) c.row[r] = _mm512_mask_loadu_ps(none, m, rows.row[r] + col);
  return c;
}

// The rows a window adds to the previous one's are among its last two
// (stride <= kernel <= 3 here): one compare checks both, so checking them in
// every window, and the rest of a plane's first window, checks every input row.
template <int kKH, int kOut, int kRows>
OM_AVX512 inline void watch_new_rows(const Column<kRows>& c, __mmask16& ok) {
  for (int i = 0; i < kOut; ++i) {
    ok = _mm512_mask_cmp_ps_mask(ok, c.row[2 * i + kKH - 2], c.row[2 * i + kKH - 1], _CMP_ORD_Q);
  }
}

// Max down the window of output row i of the set.
template <class Max, int kKH, int kRows>
OM_AVX512 inline __m512 down(const Column<kRows>& c, int i) {
  __m512 v = Max::max(c.row[2 * i], c.row[2 * i + 1]);
  if constexpr (kKH == 3) v = Max::max(v, c.row[2 * i + 2]);
  return v;
}

// The column maxima that 16 outputs from chunk j of each output row start
// their windows at: stride 1, the 16 columns of input vector j (first);
// stride 2, the even columns of input vectors 2j and 2j+1 (first) and the odd
// ones (second).
template <int kOut>
struct Starts {
  __m512 first[kOut], second[kOut];
};

// The starts of a chunk past the row.
template <int kOut>
OM_AVX512 inline Starts<kOut> nothing() {
  Starts<kOut> s;
  for (int i = 0; i < kOut; ++i) s.first[i] = s.second[i] = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  return s;
}

template <class Max, int kS, int kKH, int kOut>
OM_AVX512 inline Starts<kOut> starts(const RowSet<kKH, kOut>& rows, const RowPlan& plan, int64_t j, NanWatch& watch) {
  constexpr bool kWatch = std::is_same_v<Max, PlainMax>;
  Starts<kOut> s;
  if constexpr (kS == 1) {
    const auto c = load_column(rows, plan, j);
    if constexpr (kWatch) watch_new_rows<kKH, kOut>(c, watch.lo);
    for (int i = 0; i < kOut; ++i) s.first[i] = down<Max, kKH>(c, i), s.second[i] = __m512{};
  } else {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const auto lo = load_column(rows, plan, 2 * j), hi = load_column(rows, plan, 2 * j + 1);
    if constexpr (kWatch) {
      watch_new_rows<kKH, kOut>(lo, watch.lo);
      watch_new_rows<kKH, kOut>(hi, watch.hi);
    }
    for (int i = 0; i < kOut; ++i) {
      const __m512 dlo = down<Max, kKH>(lo, i), dhi = down<Max, kKH>(hi, i);
      s.first[i] = _mm512_permutex2var_ps(dlo, even, dhi);
      s.second[i] = _mm512_permutex2var_ps(dlo, odd, dhi);
    }
  }
  return s;
}

// kOut output rows, y_step floats apart: the columns' maxima are combined in
// registers, the window's later taps taken from the next 16 outputs' starts
// by a lane shift (one column at stride 1, one even column at stride 2), so
// no intermediate row is stored and read back.
template <class Max, int kS, int kK, int kKH, int kOut>
OM_AVX512 inline void rows_max(const RowSet<kKH, kOut>& rows, const RowPlan& plan, float* y, int64_t y_step,
                               NanWatch& watch) {
  // Whether the window reaches into the next 16 outputs' starts (all but kernel 2, stride 2).
  constexpr bool kReachesNext = kS == 1 || kK == 3;
  Starts<kOut> cur{}, next{};
  if constexpr (kReachesNext) cur = starts<Max, kS>(rows, plan, 0, watch);
  for (int64_t o = 0, j = 0; o < plan.out; o += kLanes, ++j) {
    if constexpr (kReachesNext) {
      if (j + 1 < plan.chunks_on_row) {
        next = starts<Max, kS>(rows, plan, j + 1, watch);
      } else {
        next = nothing<kOut>();
      }
    } else {
      cur = starts<Max, kS>(rows, plan, j, watch);
    }
    for (int i = 0; i < kOut; ++i) {
      __m512 v;
      if constexpr (kS == 1) {
        v = Max::max(cur.first[i], shifted<1>(cur.first[i], next.first[i]));
        if constexpr (kK == 3) v = Max::max(v, shifted<2>(cur.first[i], next.first[i]));
      } else {
        v = Max::max(cur.first[i], cur.second[i]);
        if constexpr (kK == 3) v = Max::max(v, shifted<1>(cur.first[i], next.first[i]));
      }
      float* out = y + i * y_step + o;
      if (o < plan.whole_outputs) {
        _mm512_storeu_ps(out, v);
      } else {
        _mm512_mask_storeu_ps(out, lanes_within(o, plan.out), v);
      }
    }
    cur = next;
  }
}

// Whether the given whole input rows hold no NaN (the first window's rows
// that watch_new_rows leaves out: its first when it has 3).
OM_AVX512 inline bool rows_ordered(const float* const* row, int count, int64_t in) {
  __mmask16 ok = 0xffff;
  for (int r = 0; r < count; ++r) {
    for (int64_t c = 0; c < in; c += kLanes) {
      const __m512 v = _mm512_maskz_loadu_ps(lanes_within(c, in), row[r] + c);
      ok = _mm512_mask_cmp_ps_mask(ok, v, v, _CMP_ORD_Q);
    }
  }
  return ok == 0xffff;
}

// Asks for the input in [from, to) ahead of its use: a plane of a big layer
// comes from L3 or memory, and the row loop reads three rows at once, which
// the hardware prefetcher alone does not keep up with. Planes lie one after
// the other, so the rows past a plane's last are the next plane's first.
// Always inlined: g++ deems a function that only prefetches free of effects
// and drops the calls to one it did not inline (it did, to prefetch_ahead).
[[gnu::always_inline]] inline void prefetch(const float* from, const float* to) {
  for (const float* p = from; p < to; p += kLanes) __builtin_prefetch(p, 0, 3);
}

// Asks for `rows` input rows from kPrefetchRows output rows below output row
// oh's window.
template <int kKH>
[[gnu::always_inline]] inline void prefetch_ahead(const float* x, const float* x_end, const AxisWindow& h,
                                                  int64_t row_size, int64_t oh, int64_t rows) {
  const float* ahead = x + std::max<int64_t>(h.start(oh) + kKH + (kPrefetchRows - 1) * h.stride, 0) * row_size;
  prefetch(ahead, std::min(ahead + rows * row_size, x_end));
}

// Puts the kKH rows of output row oh's window at row[0..kKH), clipped rows
// replaced by the window's nearest real row.
template <int kKH>
inline void window_rows(const float* x, const AxisWindow& h, int64_t row_size, int64_t oh, const float** row) {
  const int64_t top = h.start(oh);
  const int64_t first = std::max<int64_t>(top, 0), last = std::min<int64_t>(top + kKH, h.in) - 1;
  for (int r = 0; r < kKH; ++r) row[r] = x + std::clamp<int64_t>(top + r, first, last) * row_size;
}

// One plane. With PlainMax, returns whether its input held no NaN (else its
// output is wrong and the caller runs it again with NanMax). Rows striding 2
// down go in pairs: the pair's loop and set-up cost once, its shared row is
// loaded once.
template <class Max, int kS, int kK, int kKH>
OM_AVX512 bool plane_max(const float* x, float* y, const WindowGeometry& g, const RowPlan& plan, const float* x_end) {
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  NanWatch watch;
  if constexpr (std::is_same_v<Max, PlainMax>) {
    const float* first[kKH];
    window_rows<kKH>(x, h, w.in, 0, first);
    if (!rows_ordered(first, kKH - 2, w.in)) return false;
  }
  int64_t oh = 0;
  if (h.stride == 2) {
    for (; oh + 2 <= h.out; oh += 2) {
      // The second window's first row is the first's last (row 2 of the
      // set) at kernel 3: clipping keeps it so, as a window holds a real row.
      RowSet<kKH, 2> rows;
      window_rows<kKH>(x, h, w.in, oh, rows.row);
      window_rows<kKH>(x, h, w.in, oh + 1, rows.row + 2);
      prefetch_ahead<kKH>(x, x_end, h, w.in, oh, 4);
      rows_max<Max, kS, kK>(rows, plan, y + oh * w.out, w.out, watch);
    }
  }
  for (; oh < h.out; ++oh) {
    RowSet<kKH, 1> rows;
    window_rows<kKH>(x, h, w.in, oh, rows.row);
    prefetch_ahead<kKH>(x, x_end, h, w.in, oh, h.stride);
    rows_max<Max, kS, kK>(rows, plan, y + oh * w.out, w.out, watch);
  }
  return watch.clean();
}

// Planes [first, first + count), plane by plane; one function per kernel
// width and height and stride across, so a short row (13 outputs at 27x27)
// costs no call of its own.
template <int kS, int kK, int kKH>
OM_AVX512 void planes_max(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  const AxisWindow &h = g.axes[0], &w = g.axes[1];
  const RowPlan plan(w, kS, kS == 1 || kK == 3);
  const int64_t in_size = h.in * w.in, out_size = h.out * w.out;
  const float* x_end = x + (first + count) * in_size;
  for (int64_t p = first; p < first + count; ++p) {
    const float *px = x + p * in_size;
    float* py = y + p * out_size;
    if (!plane_max<PlainMax, kS, kK, kKH>(px, py, g, plan, x_end)) {
      plane_max<NanMax, kS, kK, kKH>(px, py, g, plan, x_end);
    }
  }
}

}  // namespace

namespace {

template <int kS, int kK>
void planes_max_across(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  if (g.axes[0].kernel == 2) return planes_max<kS, kK, 2>(x, y, first, count, g);
  return planes_max<kS, kK, 3>(x, y, first, count, g);
}

}  // namespace

void max_pool_2d_planes(const float* x, float* y, int64_t first, int64_t count, const WindowGeometry& g) {
  const AxisWindow& w = g.axes[1];
  if (w.stride == 1) {
    return w.kernel == 2 ? planes_max_across<1, 2>(x, y, first, count, g)
                         : planes_max_across<1, 3>(x, y, first, count, g);
  }
  return w.kernel == 2 ? planes_max_across<2, 2>(x, y, first, count, g)
                       : planes_max_across<2, 3>(x, y, first, count, g);
}

#else

// Never called: max_pool_2d_applies is false without x86-64, so pool_loops runs.
void max_pool_2d_planes(const float*, float*, int64_t, int64_t, const WindowGeometry&) {}

#endif

}  // namespace onnx_mini
