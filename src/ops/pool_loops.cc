#include "ops/pool_loops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "ops/pool_max_2d.h"

namespace onnx_mini {
namespace {

// Row buffer of the row path, on the stack of whichever thread runs the task
// (16 KiB of float): long rows are pooled in chunks of outputs whose input
// span fits.
constexpr int64_t kRowBuffer = 4096;

template <typename T>
constexpr T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}

// How a window's values are combined. `pad` is the value padding contributes
// (never chosen by max, nothing added to a sum); `load` maps an input value
// before combining (|x|^p for Lp).
template <typename T>
struct MaxOp {
  static T pad() { return lowest_value<T>(); }
  static T load(T v) { return v; }
  static T combine(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) return (b > a || b != b) ? b : a;  // NaN wins
    else return b > a ? b : a;
  }
  // Whether b replaces a as the window's maximum: the first NaN, never a later one.
  static bool takes(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) return b > a || (b != b && a == a);
    else return b > a;
  }
};
template <typename T>
struct SumOp {
  static T pad() { return T(0); }
  static T load(T v) { return v; }
  static T combine(T a, T b) { return a + b; }
};
// Lp's sum of |x|^p; kP: 1 or 2 written out, 0 for any other p.
template <typename T, int kP>
struct PowerSumOp {
  T p = 1;
  static T pad() { return T(0); }
  T load(T v) const {
    if constexpr (kP == 1) return std::fabs(v);
    else if constexpr (kP == 2) return v * v;
    else return std::pow(std::fabs(v), p);
  }
  static T combine(T a, T b) { return a + b; }
};

// What each output becomes once its window is combined: nothing (max), the
// sum over its tap count (average), or the sum's p-th root (Lp).
template <typename T>
struct Finish {
  PoolSpec spec;
  T apply(T v, int64_t input_taps, int64_t padded_taps) const {
    if (spec.kind == PoolKind::kAverage) return v / static_cast<T>(spec.count_include_pad ? padded_taps : input_taps);
    if (spec.kind == PoolKind::kLp) return lp_root(v);
    return v;
  }
  T lp_root(T v) const {
    if (spec.p == 1) return v;
    if (spec.p == 2) return std::sqrt(v);
    return static_cast<T>(std::pow(static_cast<double>(v), 1.0 / spec.p));
  }
};

// Advances idx through [0, limit) on `n` axes in row-major order; false after the last.
bool next_index(int64_t* idx, const int64_t* limit, int n) {
  for (int a = n - 1; a >= 0; --a) {
    if (++idx[a] < limit[a]) return true;
    idx[a] = 0;
  }
  return false;
}

// The valid taps of output o along one axis: input index first_in + t * dilation, t < count.
struct AxisTaps {
  int64_t first_in = 0, count = 0, padded = 0;
};
AxisTaps axis_taps(const AxisWindow& w, int64_t o) {
  const int64_t s = w.start(o);
  const int64_t skip = s < 0 ? (-s + w.dilation - 1) / w.dilation : 0;
  return {s + skip * w.dilation, w.input_taps(o), w.padded_taps(o)};
}

struct PlaneLayout {
  int rank = 0;
  std::array<int64_t, kMaxSpatialRank> in_stride{}, col_stride{};
  int64_t in_size = 1, out_size = 1;
  explicit PlaneLayout(const WindowGeometry& g) : rank(g.rank) {
    for (int a = rank - 1; a >= 0; --a) {
      in_stride[static_cast<size_t>(a)] = in_size;
      in_size *= g.axes[static_cast<size_t>(a)].in;
      out_size *= g.axes[static_cast<size_t>(a)].out;
    }
    int64_t c = 1;
    for (int a = 0; a < rank; ++a) {
      col_stride[static_cast<size_t>(a)] = c;
      c *= g.axes[static_cast<size_t>(a)].in;
    }
  }
};

// ---- Row path -------------------------------------------------------------

// y[i] = combine over kw of buf[i * stride + kw * dilation], i < n. kS is the
// stride when known at compile time (1, 2), 0 otherwise.
template <int kS, typename T, class Op>
void pool_last_axis(const T* buf, T* y, int64_t n, const AxisWindow& w) {
  const int64_t s = kS ? kS : w.stride;
  for (int64_t i = 0; i < n; ++i) y[i] = buf[i * s];
  for (int64_t kw = 1; kw < w.kernel; ++kw) {
    const T* b = buf + kw * w.dilation;
    for (int64_t i = 0; i < n; ++i) y[i] = Op::combine(y[i], b[i * s]);
  }
}

// Scales a finished row of averages or takes the Lp roots; the interior
// outputs share one divisor, the border ones count their taps.
template <typename T>
void finish_row(T* y, int64_t ow0, int64_t ow1, int64_t outer_taps, int64_t outer_padded, const AxisWindow& w,
                const Finish<T>& fin) {
  if (fin.spec.kind == PoolKind::kMax) return;
  if (fin.spec.kind == PoolKind::kLp) {
    for (int64_t o = ow0; o < ow1; ++o) y[o] = fin.lp_root(y[o]);
    return;
  }
  const int64_t ib = std::clamp(w.interior_begin(), ow0, ow1), ie = std::clamp(w.interior_end(), ib, ow1);
  const T inner = static_cast<T>((fin.spec.count_include_pad ? outer_padded : outer_taps) * w.kernel);
  for (int64_t o = ib; o < ie; ++o) y[o] /= inner;
  auto border = [&](int64_t o) { y[o] = fin.apply(y[o], outer_taps * w.input_taps(o), outer_padded * w.padded_taps(o)); };
  for (int64_t o = ow0; o < ib; ++o) border(o);
  for (int64_t o = ie; o < ow1; ++o) border(o);
}

template <typename T, class Op>
void pool_plane_rows(const T* x, T* y, const WindowGeometry& g, const Op& op, const Finish<T>& fin) {
  alignas(64) T buf[kRowBuffer];
  const PlaneLayout layout(g);
  const int outer = g.rank - 1;
  const AxisWindow& L = g.axes[static_cast<size_t>(outer)];
  const int64_t chunk = (kRowBuffer - L.extent()) / L.stride + 1;
  std::array<int64_t, kMaxSpatialRank> o{}, out_limit{}, t{};
  std::array<AxisTaps, kMaxSpatialRank> taps{};
  for (int a = 0; a < outer; ++a) out_limit[static_cast<size_t>(a)] = g.axes[static_cast<size_t>(a)].out;
  std::array<int64_t, kMaxSpatialRank> tap_count{};
  T* yrow = y;
  do {
    int64_t rows = 1, padded = 1;
    for (int a = 0; a < outer; ++a) {
      const size_t i = static_cast<size_t>(a);
      taps[i] = axis_taps(g.axes[i], o[i]);
      tap_count[i] = taps[i].count;
      rows *= taps[i].count;
      padded *= taps[i].padded;
    }
    for (int64_t ow0 = 0; ow0 < L.out; ow0 += chunk) {
      const int64_t ow1 = std::min(L.out, ow0 + chunk);
      const int64_t c0 = L.start(ow0), span = (ow1 - ow0 - 1) * L.stride + L.extent();
      const int64_t lo = std::clamp<int64_t>(-c0, 0, span), hi = std::clamp<int64_t>(L.in - c0, lo, span);
      std::fill(buf, buf + lo, Op::pad());
      std::fill(buf + hi, buf + span, Op::pad());
      if (rows == 0) std::fill(buf + lo, buf + hi, Op::pad());
      bool first_row = true;
      t.fill(0);
      do {
        if (rows == 0) break;
        int64_t offset = 0;
        for (int a = 0; a < outer; ++a) {
          const size_t i = static_cast<size_t>(a);
          offset += (taps[i].first_in + t[i] * g.axes[i].dilation) * layout.in_stride[i];
        }
        const T* xr = x + offset;  // buf[j] is input column c0 + j, in range for j in [lo, hi)
        if (first_row) {
          for (int64_t j = lo; j < hi; ++j) buf[j] = op.load(xr[c0 + j]);
        } else {
          for (int64_t j = lo; j < hi; ++j) buf[j] = Op::combine(buf[j], op.load(xr[c0 + j]));
        }
        first_row = false;
      } while (next_index(t.data(), tap_count.data(), outer));
      if (L.stride == 1) pool_last_axis<1, T, Op>(buf, yrow + ow0, ow1 - ow0, L);
      else if (L.stride == 2) pool_last_axis<2, T, Op>(buf, yrow + ow0, ow1 - ow0, L);
      else pool_last_axis<0, T, Op>(buf, yrow + ow0, ow1 - ow0, L);
      finish_row(yrow, ow0, ow1, rows, padded, L, fin);
    }
    yrow += L.out;
  } while (next_index(o.data(), out_limit.data(), outer));
}

// ---- Direct path ----------------------------------------------------------

// Every tap of every window; `indices` (may be null) receives where the max was.
template <typename T, class Op>
void pool_plane_direct(const T* x, T* y, int64_t* indices, int64_t plane, const WindowGeometry& g, const Op& op,
                       const Finish<T>& fin, bool column_major) {
  const PlaneLayout layout(g);
  const int r = g.rank;
  std::array<int64_t, kMaxSpatialRank> o{}, out_limit{}, t{}, tap_count{};
  std::array<AxisTaps, kMaxSpatialRank> taps{};
  for (int a = 0; a < r; ++a) out_limit[static_cast<size_t>(a)] = g.axes[static_cast<size_t>(a)].out;
  int64_t k = 0;
  do {
    int64_t count = 1, padded = 1;
    for (int a = 0; a < r; ++a) {
      const size_t i = static_cast<size_t>(a);
      taps[i] = axis_taps(g.axes[i], o[i]);
      tap_count[i] = taps[i].count;
      count *= taps[i].count;
      padded *= taps[i].padded;
    }
    T acc = Op::pad();
    int64_t best = -1;
    t.fill(0);
    do {
      if (count == 0) break;
      int64_t offset = 0, col = 0;
      for (int a = 0; a < r; ++a) {
        const size_t i = static_cast<size_t>(a);
        const int64_t at = taps[i].first_in + t[i] * g.axes[i].dilation;
        offset += at * layout.in_stride[i];
        col += at * layout.col_stride[i];
      }
      const T v = op.load(x[offset]);
      if constexpr (std::is_same_v<Op, MaxOp<T>>) {
        if (best < 0 || Op::takes(acc, v)) best = column_major ? col : offset;
      } else {
        best = 0;  // sums have no position
      }
      acc = Op::combine(acc, v);
    } while (next_index(t.data(), tap_count.data(), r));
    y[k] = fin.apply(acc, count, padded);
    if (indices) indices[k] = plane * layout.in_size + best;
    ++k;
  } while (next_index(o.data(), out_limit.data(), r));
}

template <typename T, class Op>
void pool_planes_with(const T* x, T* y, int64_t first, int64_t count, const WindowGeometry& g, const Op& op,
                      const Finish<T>& fin) {
  const PlaneLayout layout(g);
  const bool rows_fit = g.axes[static_cast<size_t>(g.rank - 1)].extent() <= kRowBuffer;
  for (int64_t p = first; p < first + count; ++p) {
    const T* xp = x + p * layout.in_size;
    T* yp = y + p * layout.out_size;
    if (rows_fit) pool_plane_rows(xp, yp, g, op, fin);
    else pool_plane_direct(xp, yp, nullptr, p, g, op, fin, false);
  }
}

// ---- Global pools ---------------------------------------------------------

// Combines n contiguous loaded values over 16 independent lanes (the compiler
// vectorises them without reassociating a single running value).
template <typename T, class Op>
T reduce_contiguous(const T* x, int64_t n, const Op& op) {
  constexpr int kLanes = 16;
  T lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = Op::pad();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) lane[l] = Op::combine(lane[l], op.load(x[i + l]));
  }
  for (; i < n; ++i) lane[0] = Op::combine(lane[0], op.load(x[i]));
  T acc = lane[0];
  for (int l = 1; l < kLanes; ++l) acc = Op::combine(acc, lane[l]);
  return acc;
}

template <typename T, class F>
void with_power_sum_op(double p, const F& f) {
  if (p == 1) f(PowerSumOp<T, 1>{});
  else if (p == 2) f(PowerSumOp<T, 2>{});
  else f(PowerSumOp<T, 0>{static_cast<T>(p)});
}

}  // namespace

template <typename T>
void pool_planes(const T* x, T* y, int64_t first, int64_t count, const WindowGeometry& g, const PoolSpec& spec) {
  const Finish<T> fin{spec};
  if constexpr (std::is_same_v<T, float>) {
    if (spec.kind == PoolKind::kMax && max_pool_2d_applies(g)) return max_pool_2d_planes(x, y, first, count, g);
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (spec.kind == PoolKind::kAverage) return pool_planes_with(x, y, first, count, g, SumOp<T>{}, fin);
    if (spec.kind == PoolKind::kLp) {
      return with_power_sum_op<T>(spec.p, [&](const auto& op) { pool_planes_with(x, y, first, count, g, op, fin); });
    }
  }
  pool_planes_with(x, y, first, count, g, MaxOp<T>{}, fin);
}

template <typename T>
void max_pool_with_indices(const T* x, T* y, int64_t* indices, int64_t first, int64_t count, const WindowGeometry& g,
                           bool column_major) {
  const PlaneLayout layout(g);
  const Finish<T> fin{PoolSpec{}};
  for (int64_t p = first; p < first + count; ++p) {
    pool_plane_direct(x + p * layout.in_size, y + p * layout.out_size, indices + p * layout.out_size, p, g, MaxOp<T>{},
                      fin, column_major);
  }
}

template <typename T>
void global_pool_planes(const T* x, T* y, int64_t first, int64_t count, int64_t plane_size, const PoolSpec& spec) {
  const Finish<T> fin{spec};
  for (int64_t p = first; p < first + count; ++p) {
    const T* xp = x + p * plane_size;
    T v{};
    if constexpr (std::is_floating_point_v<T>) {
      if (spec.kind == PoolKind::kAverage) v = reduce_contiguous(xp, plane_size, SumOp<T>{});
      else if (spec.kind == PoolKind::kLp) with_power_sum_op<T>(spec.p, [&](const auto& op) { v = reduce_contiguous(xp, plane_size, op); });
      else v = reduce_contiguous(xp, plane_size, MaxOp<T>{});
    } else {
      v = reduce_contiguous(xp, plane_size, MaxOp<T>{});
    }
    y[p] = fin.apply(v, plane_size, plane_size);
  }
}

template void pool_planes<float>(const float*, float*, int64_t, int64_t, const WindowGeometry&, const PoolSpec&);
template void pool_planes<int8_t>(const int8_t*, int8_t*, int64_t, int64_t, const WindowGeometry&, const PoolSpec&);
template void pool_planes<uint8_t>(const uint8_t*, uint8_t*, int64_t, int64_t, const WindowGeometry&, const PoolSpec&);
template void max_pool_with_indices<float>(const float*, float*, int64_t*, int64_t, int64_t, const WindowGeometry&, bool);
template void max_pool_with_indices<int8_t>(const int8_t*, int8_t*, int64_t*, int64_t, int64_t, const WindowGeometry&,
                                            bool);
template void max_pool_with_indices<uint8_t>(const uint8_t*, uint8_t*, int64_t*, int64_t, int64_t,
                                             const WindowGeometry&, bool);
template void global_pool_planes<float>(const float*, float*, int64_t, int64_t, int64_t, const PoolSpec&);
template void global_pool_planes<int8_t>(const int8_t*, int8_t*, int64_t, int64_t, int64_t, const PoolSpec&);
template void global_pool_planes<uint8_t>(const uint8_t*, uint8_t*, int64_t, int64_t, int64_t, const PoolSpec&);

}  // namespace onnx_mini
