#include "ops/row_tile_tail.h"

#include <algorithm>
#include <array>
#include <utility>

#include "ops/lane_mask.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "ops/simd_transpose.h"
#define ONNX_MINI_HAVE_COLUMN_TAIL 1
#else
#define ONNX_MINI_HAVE_COLUMN_TAIL 0
#endif

namespace onnx_mini {

#if ONNX_MINI_HAVE_COLUMN_TAIL
namespace {

#define OM_AVX512 __attribute__((target("avx512f")))

constexpr int64_t kLanes = 16;
// Rows per block: two vectors.
constexpr int64_t kBlockRows = 2 * kLanes;
// Depth steps ahead at which B's rows are asked for: each step reads one
// row, a plane of the input apart, which the hardware prefetcher does not
// follow.
constexpr int64_t kPrefetchSteps = 16;
// The depth steps at the end of a block that read W under masks, for tiles
// of T rows. Before them a vector's two full 16-float loads stay inside the
// weight: a load starts at most 15 floats before its tile's rows of the step
// (in the step before, or the tile before, of at least 3 x 8 floats then)
// and ends at most T + 14 floats after their start, within the next 14 / T
// steps' rows (2 for tiles of 8 to 12 rows; 15 for a one-row weight).
int64_t masked_steps(int64_t tile_rows) { return 1 + 14 / tile_rows; }

// Where the lanes of one row vector come from: lanes [0, split) from W at
// offset[0], lanes [split, 16) at offset[1] (from the start of the run's
// first tile at depth 0; lane l at + l), one offset per row tile the
// vector's rows lie in. A vector of 16 rows spans at most two tiles of at
// least 8 rows when it starts at a multiple of 16 rows from the run's start
// with 8 or 12 rows a tile, or at a tile's start (column_tail_block_rows).
struct VectorSource {
  int64_t offset[2] = {0, 0};
  int split = kLanes;  // lanes from the first tile
  int lanes = 0;       // rows in the vector
};

// The rows [row0, min(row0 + 16, row_end)).
VectorSource vector_source(const ColumnTailProduct& t, int64_t row0, int64_t row_end) {
  VectorSource s;
  s.lanes = static_cast<int>(std::clamp<int64_t>(row_end - row0, 0, kLanes));
  const int64_t tile = row0 / t.tile_rows;
  // Lane l reads row row0 + l of the tile: tile_rows apart from its start.
  s.offset[0] = s.offset[1] = tile * t.tile_stride + row0 - tile * t.tile_rows;
  s.split = static_cast<int>(std::min<int64_t>(s.lanes, (tile + 1) * t.tile_rows - row0));
  if (s.split < s.lanes) s.offset[1] = (tile + 1) * t.tile_stride + row0 - (tile + 1) * t.tile_rows;
  return s;
}

// The vectors' row sources of one block, as the kernel reads them: lane l
// of vector v is lane index[v][l] of the pair (first tile's load, second's).
template <int V>
struct BlockSource {
  int64_t offset[V][2];
  __mmask16 first[V], second[V];  // the masked loads' lanes
  alignas(64) int32_t index[V][kLanes];
};

// acc[p][v] += B[p] * w[v] for one depth step (B's row at b), with B asked
// for kPrefetchSteps rows ahead.
template <int C, int V>
[[gnu::always_inline]] OM_AVX512 inline void fma_step(__m512 (&acc)[C][V], const __m512 (&w)[V], const float* b,
                                                       int64_t ldb) {
  __builtin_prefetch(b + kPrefetchSteps * ldb, 0, 3);
#pragma GCC unroll 12
  for (int p = 0; p < C; ++p) {
    const __m512 x = _mm512_set1_ps(b[p]);
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_fmadd_ps(x, w[v], acc[p][v]);
  }
}

// One block: sums [C][kBlockRows] (column p's rows at sums + p * kBlockRows)
// = A [rows, kc] * B [kc, C]; V vectors of rows. Each vector is two full
// loads, one per tile, merged by a permute (under masks, GCC reloaded the
// masks from the stack at every step), but on the last masked_steps().
template <int C, int V>
OM_AVX512 void tail_block(const float* a, const BlockSource<V>& src, int64_t tile_rows, const float* b, int64_t ldb,
                          int64_t kc, float* sums) {
  const int64_t unmasked = kc - masked_steps(tile_rows);
  __m512 acc[C][V];
#pragma GCC unroll 12
  for (int p = 0; p < C; ++p) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[p][v] = _mm512_setzero_ps();
  }
  __m512i index[V];
  int64_t o0[V], o1[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    index[v] = _mm512_load_si512(src.index[v]);
    o0[v] = src.offset[v][0];
    o1[v] = src.offset[v][1];
  }
  int64_t k = 0;
  for (; k < unmasked; ++k, a += tile_rows, b += ldb) {
    __m512 w[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) w[v] = _mm512_permutex2var_ps(_mm512_loadu_ps(a + o0[v]), index[v], _mm512_loadu_ps(a + o1[v]));
    fma_step<C, V>(acc, w, b, ldb);
  }
  for (; k < kc; ++k, a += tile_rows, b += ldb) {
    __m512 w[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      w[v] = _mm512_mask_loadu_ps(_mm512_maskz_loadu_ps(src.first[v], a + o0[v]), src.second[v], a + o1[v]);
    }
    fma_step<C, V>(acc, w, b, ldb);
  }
#pragma GCC unroll 12
  for (int p = 0; p < C; ++p) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(sums + p * kBlockRows + v * kLanes, acc[p][v]);
  }
}

using TailBlock = void (*)(const float*, const void*, int64_t, const float*, int64_t, int64_t, float*);

template <int C, int V>
void tail_block_erased(const float* a, const void* src, int64_t tile_rows, const float* b, int64_t ldb, int64_t kc,
                       float* sums) {
  tail_block<C, V>(a, *static_cast<const BlockSource<V>*>(src), tile_rows, b, ldb, kc, sums);
}

template <int V, int... C>
constexpr std::array<TailBlock, kMaxColumnTailCols + 1> tail_blocks(std::integer_sequence<int, C...>) {
  return {nullptr, tail_block_erased<C + 1, V>...};
}
// [V - 1][C].
constexpr std::array<TailBlock, kMaxColumnTailCols + 1> kTailBlocks[2] = {
    tail_blocks<1>(std::make_integer_sequence<int, kMaxColumnTailCols>{}),
    tail_blocks<2>(std::make_integer_sequence<int, kMaxColumnTailCols>{})};

// Rows [row0, row_end) of Y from the block's sums: each vector of
// rows transposed so that its columns fill the lanes, then per row, in the
// micro-kernel's order: + Y's partial sums (not first), and on the last
// chunk + column bias, + row bias, + residual, ReLU, Clip.
OM_AVX512 void store_block(const ColumnTailProduct& t, const RegisterEpilogue& e, int64_t row0, int64_t row_end,
                           const float* sums) {
  const __mmask16 cols = lane_range_mask(0, t.cols);
  // The fields in locals, as the micro-kernel's: a store through y may alias them.
  const bool first = t.first, last = t.last;
  float* const y = t.y;
  const int64_t ldy = t.ldy, ld_residual = e.ld_residual;
  const float* const bias = e.bias;
  const float* const row_bias = e.row_bias;
  const float* const residual = e.residual;
  const bool relu = e.relu, clip = e.clip;
  const __m512 zero = _mm512_setzero_ps(), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  const __m512 column_bias = last && bias ? _mm512_maskz_loadu_ps(cols, bias) : zero;
  for (int64_t v = 0; v * kLanes < kBlockRows; ++v) {
    const int64_t first_row = row0 + v * kLanes, rows = std::min<int64_t>(kLanes, row_end - first_row);
    if (rows <= 0) return;
    __m512 m[kLanes];
    for (int64_t p = 0; p < kLanes; ++p) m[p] = p < t.cols ? _mm512_loadu_ps(sums + p * kBlockRows + v * kLanes) : zero;
    transpose16(m);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t r = first_row + i;
      __m512 x = m[i];
      if (!first) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(cols, y + r * ldy));
      if (last) {
        if (bias) x = _mm512_add_ps(x, column_bias);
        if (row_bias) x = _mm512_add_ps(x, _mm512_set1_ps(row_bias[r]));
        if (residual) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(cols, residual + r * ld_residual));
        // As the micro-kernel: max(0, x) keeps NaN and -0 (ReluFn's x < 0 ? 0 : x).
        if (relu) x = _mm512_max_ps(zero, x);
        if (clip) x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));
      }
      _mm512_mask_storeu_ps(y + r * ldy, cols, x);
    }
  }
}

template <int V>
void run_block(const ColumnTailProduct& t, int64_t row0, int64_t row_end, float* sums) {
  BlockSource<V> src{};
  for (int v = 0; v < V; ++v) {
    const VectorSource s = vector_source(t, row0 + v * kLanes, row_end);
    src.offset[v][0] = s.offset[0];
    src.offset[v][1] = s.offset[1];
    src.first[v] = lane_range_mask(0, s.split);
    src.second[v] = lane_range_mask(s.split, s.lanes);
    for (int l = 0; l < kLanes; ++l) src.index[v][l] = l < s.split ? l : kLanes + l;
  }
  kTailBlocks[V - 1][t.cols](t.a, &src, t.tile_rows, t.b, t.ldb, t.kc, sums);
}

}  // namespace
#endif

void multiply_column_tail(const ColumnTailProduct& t, const RegisterEpilogue& epilogue) {
#if ONNX_MINI_HAVE_COLUMN_TAIL
  alignas(64) float sums[kMaxColumnTailCols * kBlockRows];
  const int64_t step = t.rows <= t.tile_rows ? kBlockRows : column_tail_block_rows(t.tile_rows);
  for (int64_t row0 = 0; row0 < t.rows; row0 += step) {
    const int64_t row_end = std::min(t.rows, row0 + step);
    if (row_end - row0 > kLanes) {
      run_block<2>(t, row0, row_end, sums);
    } else {
      run_block<1>(t, row0, row_end, sums);
    }
    store_block(t, epilogue, row0, row_end, sums);
  }
#else
  (void)t, (void)epilogue;  // needs PackedWeights::supported(): never reached
#endif
}

// 32 rows of tiles of 10 put rows 16-31 in tiles 1, 2 and 3: three masked
// loads a vector, whose six masks GCC kept on the stack and reloaded at every
// depth step. With 8 or 12 rows a tile a vector starting at a multiple of 16
// rows spans at most two tiles.
int64_t column_tail_block_rows(int64_t tile_rows) {
  constexpr int64_t kRows = 32;
  return tile_rows % 4 == 0 || tile_rows >= kRows ? kRows : kRows / tile_rows * tile_rows;
}

}  // namespace onnx_mini
