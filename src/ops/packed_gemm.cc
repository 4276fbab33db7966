#include "ops/packed_gemm.h"

#include <algorithm>
#include <climits>
#include <array>
#include <utility>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "ops/parallel.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_PACKED_GEMM 1
#else
#define ONNX_MINI_HAVE_PACKED_GEMM 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kPanel = PackedWeights::kPanelCols;
// Rows of Y per micro-kernel call: 12 rows x 2 vectors = 24 accumulators, so the
// 2 FMA pipes (4-cycle latency) always have independent work, with registers
// left for the two panel vectors and the broadcast (32 zmm registers in all).
// bench_packed_gemm's L1-resident case (12 x 256 x 32) runs at 200-215 GFLOP/s
// on this machine's cores; 8 rows measured the same within noise at M = 256.
constexpr int kTileRows = static_cast<int>(PackedWeights::kMaxTileRows);
// Depth steps ahead at which a row-tile micro-kernel prefetches its A stream:
// 64 steps of a 12-row tile are 3 KiB, about the latency of memory at the
// kernel's pace; 32 to 256 measured the same within this machine's noise.
constexpr int64_t kRowTilePrefetchSteps = 64;
// The same for the gathered kernel's weight panel (B), on the first pixel tile
// of a depth chunk, the one that reads the chunk from L3 or memory (the
// others find it in L1): 64 steps of 128 bytes, 8 KiB ahead. The 1x1
// convolutions of MobileNetV2's 7x7 stage (weights up to 1.2 MB, streamed
// once per run) took 0.80-0.86 of their time with it (--profile, 1 thread,
// batch 1, four rounds; 16 and 32 steps ahead 0.85-0.90, 128 and 192 no better).
constexpr int64_t kGatheredPrefetchSteps = 64;
// Depth per pass over a panel: 256 x 32 floats = 32 KiB of panel stays in L1
// while every row tile of the task streams past it.
// bench_packed_gemm (784 -> 512 at M = 16 / 64 / 256, 1 thread, GFLOP/s): depth
// 128: 200 / 200 / 194, 256: 191 / 198 / 213, 512: 197 / 200 / 212, 1024 (no
// chunking for these K): 157 / 180 / 214.
constexpr int64_t kDepthChunk = 256;
// Rows per task. Tasks are (panel, row chunk) pairs; the row chunk bounds the
// A block a task reads per depth chunk to 256 x 256 floats (256 KiB, L2).
constexpr int64_t kRowChunk = 256;
// Products smaller than this run on the calling thread: waking a worker and
// moving its share of Y back costs ~1-2 us, the whole time of such a product
// (784 -> 128 at batch 1 is 100K multiply-adds, ~2 us on one core).
constexpr int64_t kMinParallelMacs = int64_t{256} << 10;
// Panels per task (one A block per depth chunk serves them all from L2; their
// Y block, 256 rows x 256 columns = 256 KiB, stays in L2 beside it), and the
// tasks each thread should get at least, so that uneven task times even out.
constexpr int64_t kMaxPanelsPerTask = 8;
constexpr int64_t kTasksPerThread = 2;
constexpr int64_t kL2ResidentBytes = int64_t{512} << 10;

#if ONNX_MINI_HAVE_PACKED_GEMM

// What one micro-kernel call computes: Y tile [R, cols] (+)= A [R, kc] * B [kc, cols].
// A element (r, p) is a[r * a_row + p * a_col]: a row-major A (a_col = 1) or a
// row tile of a kRowTiles weight (a_row = 1, a_col = tile rows). B row p is at
// b + p * ldb. `first`: the tile starts from zero, else from the partial sums
// already in Y; `last`: the stored values are final, scaled by alpha, and get
// the register epilogue.
struct TileArgs {
  int64_t kc;
  const float* a;
  int64_t a_row, a_col;
  const float* b;
  int64_t ldb;
  float* y;
  int64_t ldy;
  int64_t cols;
  bool first, last;
  float alpha;
  const RegisterEpilogue* epilogue;
};

// The tile with V = 2 vectors per B row (cols <= 32), or 1 for a last panel of
// at most 16 columns (an output layer of 10 classes does a third of the work),
// or 3 (cols <= 48) for tiles of at most 8 rows against a caller's B
// (kMaskedB): 24 accumulators, as 12 x 2.
// kTileA: A is a packed row tile (one pointer walks it; the compiler keeps the
// row offsets as immediates), else A's rows are R pointers. kMaskedB: B rows
// are read with loads masked to cols (a caller's tensor, nothing readable
// past it), else they are padded panels.
// On the last chunk the epilogue is applied after alpha, in the order of the
// scalar epilogue: act(alpha * sum + bias + row_bias + residual).
template <int R, int V, bool kTileA, bool kMaskedB>
__attribute__((target("avx512f"))) void micro_kernel(const TileArgs& t) {
  __mmask16 mask[V];
#pragma GCC unroll 3
  for (int v = 0; v < V; ++v) {
    const int64_t in_vector = std::clamp<int64_t>(t.cols - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((uint32_t{1} << in_vector) - 1);
  }
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  const float* b = t.b;
  if constexpr (kTileA) {
    const float* a = t.a;
    const int64_t a_col = t.a_col;
    for (int64_t p = 0; p < t.kc; ++p, a += a_col, b += t.ldb) {
      // The row tile (a weight, packed once) is read once per pass and comes
      // from L3 or memory: ask for the line kRowTilePrefetchSteps ahead, as the
      // hardware prefetcher stops at page ends (a prefetch past the tile's end
      // is harmless: it never faults). Whole models at batch 1, old and new
      // binaries alternated 5 rounds (2026-12-03): ResNet-18 0.94-0.98,
      // MobileNetV2 0.86-0.99, SqueezeNet 0.94-1.02 (bench/README.md).
      __builtin_prefetch(a + kRowTilePrefetchSteps * a_col, 0, 3);
      // A masked B is a caller's tensor read in place: a 1x1 convolution's
      // input rows, kc channel planes apart. The next 32 floats of each row are
      // the next panel's; fetching them now hides the memory latency of kc
      // streams, more than the hardware prefetcher tracks. bench_conv, 1 thread,
      // batch 8: 144 -> 24 at 56x56 0.66x the time, 256 -> 64 at 56x56 0.91x,
      // 64 -> 16 at 55x55 0.89x; batch 1 and 14x14 images unchanged.
      if constexpr (kMaskedB && V == 3) {
        _mm_prefetch(reinterpret_cast<const char*>(b + 48), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + 64), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + 80), _MM_HINT_T0);
      } else if constexpr (kMaskedB) {
        _mm_prefetch(reinterpret_cast<const char*>(b + kPanel), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + kPanel + 16), _MM_HINT_T0);
      }
      __m512 bv[V];
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v) bv[v] = kMaskedB ? _mm512_maskz_loadu_ps(mask[v], b + 16 * v) : _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
    }
  } else {
    const float* a_row[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) a_row[r] = t.a + r * t.a_row;
    for (int64_t p = 0; p < t.kc; ++p, b += t.ldb) {
      __m512 bv[V];
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v) bv[v] = kMaskedB ? _mm512_maskz_loadu_ps(mask[v], b + 16 * v) : _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512 av = _mm512_set1_ps(a_row[r][p]);
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
      }
    }
  }
  // The epilogue, one term at a time over the whole tile: a test per term
  // and call, not per vector (with K = 16, a 1x1 convolution's small depth,
  // the per-vector tests took as long as the multiply-adds). Each element
  // still gets act(alpha * sum + bias + row_bias + residual) in that order.
  // The fields in locals: a store through a float* may alias the tile's
  // arguments, and the compiler would reload them after each one.
  const RegisterEpilogue& e = *t.epilogue;
  const bool last = t.last, first = t.first;
  float* const y = t.y;
  const int64_t ldy = t.ldy, ld_residual = e.ld_residual;
  const float* const bias_row = e.bias;
  const float* const row_bias = e.row_bias;
  const float* const residual = e.residual;
  if (!first) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v) {
        acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_maskz_loadu_ps(mask[v], y + r * ldy + 16 * v));
      }
    }
  }
  if (last) {
    if (t.alpha != 1.0f) {
      const __m512 scale = _mm512_set1_ps(t.alpha);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_mul_ps(acc[r][v], scale);
      }
    }
    if (bias_row) {
#pragma GCC unroll 3
      for (int v = 0; v < V; ++v) {
        const __m512 bias = _mm512_maskz_loadu_ps(mask[v], bias_row + 16 * v);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) acc[r][v] = _mm512_add_ps(acc[r][v], bias);
      }
    }
    if (row_bias) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512 bias = _mm512_set1_ps(row_bias[r]);
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_add_ps(acc[r][v], bias);
      }
    }
    if (residual) {
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) {
          acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_maskz_loadu_ps(mask[v], residual + r * ld_residual + 16 * v));
        }
      }
    }
    // max(c, x) returns x when x is NaN (the second operand wins unordered)
    // and max(0, -0) keeps -0 (0 > -0 is false): exactly ReluFn's x < 0 ? 0 : x,
    // and Clip's NaN pass-through.
    if (e.relu) {
      const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_max_ps(zero, acc[r][v]);
      }
    }
    if (e.clip) {
      const __m512 lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
        for (int v = 0; v < V; ++v) acc[r][v] = _mm512_min_ps(hi, _mm512_max_ps(lo, acc[r][v]));
      }
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 3
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(y + r * ldy + 16 * v, mask[v], acc[r][v]);
  }
}

using MicroKernel = void (*)(const TileArgs&);

template <int V, bool kTileA, bool kMaskedB, int... R>
constexpr std::array<MicroKernel, kTileRows + 1> micro_kernels(std::integer_sequence<int, R...>) {
  return {nullptr, micro_kernel<R + 1, V, kTileA, kMaskedB>...};
}
template <bool kTileA, bool kMaskedB>
constexpr std::array<MicroKernel, kTileRows + 1> kernels_for(int vectors) {
  return vectors == 1 ? micro_kernels<1, kTileA, kMaskedB>(std::make_integer_sequence<int, kTileRows>{})
                      : micro_kernels<2, kTileA, kMaskedB>(std::make_integer_sequence<int, kTileRows>{});
}
// [V - 1][rows]: the kernel for a tile of `rows` rows and V vectors per B row;
// row-major A against a packed panel (multiply()), and a packed row tile
// against a padded panel or a masked caller's B (multiply_row_tile()).
constexpr std::array<MicroKernel, kTileRows + 1> kMicroKernels[2] = {kernels_for<false, false>(1),
                                                                     kernels_for<false, false>(2)};
constexpr std::array<MicroKernel, kTileRows + 1> kRowTileKernels[2][2] = {
    {kernels_for<true, false>(1), kernels_for<true, false>(2)},
    {kernels_for<true, true>(1), kernels_for<true, true>(2)}};
// [rows]: 3 vectors per row of a caller's B, tiles of up to kWideTileMaxRows rows.
constexpr std::array<MicroKernel, kTileRows + 1> kWideRowTileKernels =
    micro_kernels<3, true, true>(std::make_integer_sequence<int, static_cast<int>(kWideTileMaxRows)>{});

// The tile of multiply_gathered_tile(): A rows through R pointers and one
// shared offset per step (the input pixels of a convolution at one channel and
// kernel position), B a padded panel, Y a full 32-column tile buffer.
// kPrefetch: 0 none, 1 B ahead of its reads (prefetch_b), 2 the caller's next
// B into L2 (prefetch_next), 3 the steps in runs (run_steps; B ahead where
// prefetch_b), 4 as 3 with the rows' pointers consecutive floats (a_rows[r] =
// a_rows[0] + r: one register for them all, which the runs' count needs).
template <int R, int kPrefetch>
__attribute__((target("avx512f"))) void gathered_kernel(const GatheredTileProduct& t) {
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const float* rows[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) rows[r] = t.a_rows[r];
  const float* b = t.b;
  const int32_t* offsets = t.a_offsets;
  const char* next = reinterpret_cast<const char*>(t.prefetch_next);
  const int64_t next_lines = t.prefetch_lines;
  const int64_t run_steps = t.run_steps, gap = t.run_gap;
  int64_t run_left = t.run_left;
  const bool prefetch_runs = t.prefetch_b;
  for (int64_t p = 0; p < t.kc; ++p, b += kPanel) {
    if constexpr (kPrefetch == 1) {
      __builtin_prefetch(b + kGatheredPrefetchSteps * kPanel, 0, 3);
      __builtin_prefetch(b + kGatheredPrefetchSteps * kPanel + 16, 0, 3);
    } else if constexpr (kPrefetch == 2) {
      if (p < next_lines) _mm_prefetch(next + p * 64, _MM_HINT_T1);
    } else if constexpr (kPrefetch >= 3) {
      // The rows a little further on in W's order (those left out too).
      if (prefetch_runs) {
        __builtin_prefetch(b + kGatheredPrefetchSteps * kPanel, 0, 3);
        __builtin_prefetch(b + kGatheredPrefetchSteps * kPanel + 16, 0, 3);
      }
    }
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
    const int64_t offset = kPrefetch >= 3 ? *offsets : offsets[p];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(kPrefetch == 4 ? rows[0][offset + r] : rows[r][offset]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    if constexpr (kPrefetch >= 3) {
      ++offsets;
      if (--run_left == 0) {
        offsets += gap;
        b += gap * kPanel;
        run_left = run_steps;
      }
    }
  }
  // In locals: a store through y may alias the tile's arguments, which the
  // compiler would otherwise reload (and test) row by row.
  float* const y = t.y;
  const int64_t ldy = t.ldy;
  if (!t.first) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(y + r * ldy));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(y + r * ldy + 16));
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_ps(y + r * ldy, acc[r][0]);
    _mm512_storeu_ps(y + r * ldy + 16, acc[r][1]);
  }
}

using GatheredKernel = void (*)(const GatheredTileProduct&);
template <int kPrefetch, int... R>
constexpr std::array<GatheredKernel, kTileRows + 1> gathered_kernels(std::integer_sequence<int, R...>) {
  return {nullptr, gathered_kernel<R + 1, kPrefetch>...};
}
constexpr std::array<GatheredKernel, kTileRows + 1> kGatheredKernels[5] = {
    gathered_kernels<0>(std::make_integer_sequence<int, kTileRows>{}),
    gathered_kernels<1>(std::make_integer_sequence<int, kTileRows>{}),
    gathered_kernels<2>(std::make_integer_sequence<int, kTileRows>{}),
    gathered_kernels<3>(std::make_integer_sequence<int, kTileRows>{}),
    gathered_kernels<4>(std::make_integer_sequence<int, kTileRows>{})};

#endif  // ONNX_MINI_HAVE_PACKED_GEMM

struct MultiplyJob {
  const float* packed;
  int64_t k, n, m, row_chunks, panels, panels_per_task;
  const float* a;
  int64_t lda;
  float alpha;
  float* y;
  int64_t ldy;
  const TileEpilogue* epilogue;  // null when none or when in registers
  RegisterEpilogue in_registers;
};

// One tile row band [row_begin, row_end) of one panel, over one depth chunk.
void multiply_panel_chunk(const MultiplyJob& job, int64_t panel_index, int64_t row_begin, int64_t row_end, int64_t k0,
                          int64_t kc) {
  const int64_t col0 = panel_index * kPanel;
  const int64_t cols = std::min(kPanel, job.n - col0);
  const float* panel = job.packed + panel_index * job.k * kPanel;
  const int vectors = cols > 16 ? 2 : 1;
  RegisterEpilogue in_registers = job.in_registers;
  if (in_registers.bias) in_registers.bias += col0;
  const bool first = k0 == 0, last = k0 + kc == job.k;
  for (int64_t i = row_begin; i < row_end;) {
    // Full tiles, but never a thin last one: 12 + 4 remaining rows become 8 + 8
    // (a 4-row tile has too few accumulators to keep both FMA pipes busy).
    const int64_t left = row_end - i;
    const int64_t rows =
        left >= 2 * kTileRows || left <= kTileRows ? std::min<int64_t>(kTileRows, left) : (left + 1) / 2;
    float* tile = job.y + i * job.ldy + col0;
#if ONNX_MINI_HAVE_PACKED_GEMM
    const TileArgs args{kc,   job.a + i * job.lda + k0, job.lda, 1,         panel + k0 * kPanel, kPanel,
                        tile, job.ldy,                  cols,    first,     last,                job.alpha,
                        &in_registers};
    kMicroKernels[vectors - 1][rows](args);
#else
    (void)panel, (void)vectors, (void)first;  // multiply() needs supported(): never reached
#endif
    if (last && job.epilogue) job.epilogue->apply(tile, job.ldy, rows, cols, i, col0);
    i += rows;
  }
}

// A task: a group of adjacent panels for one row chunk. Depth chunks are the
// outer loop, so the A block of a depth chunk (up to 256 x 256 floats) is read
// into L2 once for the whole group rather than once per panel: with K = 4096
// and M = 256, A is 4 MiB, and streaming it once per 32-column panel would move
// 128 x 4 MiB per product.
void run_task(const void* context, int64_t task) {
  const MultiplyJob& job = *static_cast<const MultiplyJob*>(context);
  const int64_t first_panel = (task / job.row_chunks) * job.panels_per_task;
  const int64_t end_panel = std::min(job.panels, first_panel + job.panels_per_task);
  const int64_t row_begin = (task % job.row_chunks) * kRowChunk;
  const int64_t row_end = std::min(job.m, row_begin + kRowChunk);
  // Depth chunks of equal size (784 = 4 x 196, not 3 x 256 + 16: a thin last
  // chunk would cost a full reload and store of Y for little work).
  const int64_t depth_chunks = (job.k + kDepthChunk - 1) / kDepthChunk;
  const int64_t chunk = (job.k + depth_chunks - 1) / depth_chunks;
  for (int64_t k0 = 0; k0 < job.k; k0 += chunk) {
    const int64_t kc = std::min(chunk, job.k - k0);
    for (int64_t p = first_panel; p < end_panel; ++p) multiply_panel_chunk(job, p, row_begin, row_end, k0, kc);
  }
}

// Panels of op(B) = B^T for the n rows of B [n, k] (row stride ldb) starting
// at row0, into dst: panel by panel (a panel is 32 of B's rows), so what is
// behind the walk is never read again.
void pack_transposed_panels(const float* b, int64_t ldb, int64_t k, int64_t n, int64_t row0, float* dst,
                            const PackedWeights::ConsumedFn& consumed) {
  const int64_t panels = (n + kPanel - 1) / kPanel;
  for (int64_t p = 0; p < panels; ++p) {
    float* panel = dst + p * k * kPanel;
    const int64_t col0 = p * kPanel;
    const int64_t cols = std::min(kPanel, n - col0);
    for (int64_t j = 0; j < cols; ++j) {
      const float* src = b + (row0 + col0 + j) * ldb;
      for (int64_t kk = 0; kk < k; ++kk) panel[kk * kPanel + j] = src[kk];
    }
    if (consumed) consumed(b + (row0 + col0 + cols - 1) * ldb + k);
  }
}

}  // namespace

bool PackedWeights::supported() {
#if ONNX_MINI_HAVE_PACKED_GEMM
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
#else
  return false;
#endif
}

bool PackedWeights::enabled() {
  const char* v = std::getenv("ONNX_MINI_PACKED_GEMM");
  return supported() && !(v && std::string_view(v) == "0");
}

int64_t PackedPanels::floats_needed(int64_t k, int64_t n) { return (n + kPanel - 1) / kPanel * k * kPanel; }

PackedPanels PackedPanels::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b, float* dst,
                                const ConsumedFn& consumed) {
  const int64_t panels = (n + kPanel - 1) / kPanel;
  if (n % kPanel != 0) {  // the last panel's padding columns stay zero
    std::memset(dst + (panels - 1) * k * kPanel, 0, static_cast<size_t>(k * kPanel) * sizeof(float));
  }
  // B is walked in its own memory order, so what is behind the walk is never
  // read again: a transB weight [n, k] panel by panel (a panel is 32 of its
  // rows), a [k, n] weight row by row into every panel.
  if (trans_b) {
    pack_transposed_panels(b, ldb, k, n, 0, dst, consumed);
  } else {
    constexpr int64_t kRowsPerReport = 64;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float* src = b + kk * ldb;
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t col0 = p * kPanel;
        std::memcpy(dst + (p * k + kk) * kPanel, src + col0,
                    static_cast<size_t>(std::min(kPanel, n - col0)) * sizeof(float));
      }
      if (consumed && ((kk + 1) % kRowsPerReport == 0 || kk + 1 == k)) consumed(src + n);
    }
  }
  return PackedPanels(dst, k, n);
}

PackedWeights PackedWeights::pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b,
                                  const ConsumedFn& consumed) {
  PackedWeights w;
  w.layout_ = Layout::kColumnPanels;
  w.k_ = k;
  w.n_ = n;
  w.panels_per_group_ = (n + kPanel - 1) / kPanel;
  w.storage_ = Tensor::allocate_for_overwrite(DataType::kFloat, Shape{w.panels_per_group_, k, kPanel});
  PackedPanels::pack(b, k, n, ldb, trans_b, w.storage_.data<float>(), consumed);
  return w;
}

PackedWeights PackedWeights::pack_grouped(const float* b, int64_t n, int64_t k, int64_t groups,
                                          const ConsumedFn& consumed) {
  PackedWeights w;
  w.layout_ = Layout::kColumnPanels;
  w.k_ = k;
  w.n_ = n;
  w.groups_ = groups;
  const int64_t group_cols = n / groups;
  w.panels_per_group_ = (group_cols + kPanel - 1) / kPanel;
  // Zeros: the padding columns of each group's last panel.
  w.storage_ = Tensor::allocate(DataType::kFloat, Shape{groups * w.panels_per_group_, k, kPanel});
  for (int64_t g = 0; g < groups; ++g) {
    pack_transposed_panels(b, k, k, group_cols, g * group_cols,
                           w.storage_.data<float>() + g * w.panels_per_group_ * k * kPanel, consumed);
  }
  return w;
}

void PackedWeights::unpack(float* b, int64_t ldb, bool trans_b) const {
  const float* src = storage_.data<float>();
  const int64_t group_cols = n_ / groups_;
  for (int64_t col = 0; col < n_; ++col) {
    const int64_t g = col / group_cols, in_group = col % group_cols;
    const float* panel = src + (g * panels_per_group_ + in_group / kPanel) * k_ * kPanel;
    const int64_t j = in_group % kPanel;
    for (int64_t kk = 0; kk < k_; ++kk) {
      const float v = panel[kk * kPanel + j];
      if (trans_b) {
        b[col * ldb + kk] = v;
      } else {
        b[kk * ldb + col] = v;
      }
    }
  }
}

namespace {

// Rows per tile for a group of m rows: from 8 (16 accumulators, still enough
// independent FMAs for both pipes) to 12, the height that pads the fewest rows
// (64 output channels: 8 tiles of 8, not 6 of 12 with 8 rows of zeros), the
// taller on a tie (fewer calls). Fewer than 8 rows: one tile of exactly m.
int64_t choose_tile_rows(int64_t m) {
  if (m <= 8) return m;
  int64_t best = kTileRows, best_waste = INT64_MAX;
  for (int64_t rows = kTileRows; rows >= 8; --rows) {
    const int64_t waste = (m + rows - 1) / rows * rows - m;
    if (waste < best_waste) best = rows, best_waste = waste;
  }
  return best;
}

}  // namespace

PackedWeights PackedWeights::pack_rows(const float* a, int64_t m, int64_t k, int64_t lda, int64_t groups,
                                       const ConsumedFn& consumed) {
  PackedWeights w;
  w.layout_ = Layout::kRowTiles;
  w.k_ = k;
  w.n_ = m;
  w.groups_ = groups;
  const int64_t group_rows = m / groups;
  w.tile_rows_ = choose_tile_rows(group_rows);
  w.tiles_per_group_ = (group_rows + w.tile_rows_ - 1) / w.tile_rows_;
  const int64_t tiles = groups * w.tiles_per_group_;
  w.storage_ = Tensor::allocate(DataType::kFloat, Shape{tiles, k, w.tile_rows_});  // zeros: padding rows
  // Row by row in A's memory order, so what is behind the walk is never read again.
  for (int64_t row = 0; row < m; ++row) {
    const int64_t g = row / group_rows, in_group = row % group_rows;
    float* tile = w.storage_.data<float>() + (g * w.tiles_per_group_ + in_group / w.tile_rows_) * k * w.tile_rows_;
    const int64_t r = in_group % w.tile_rows_;
    const float* src = a + row * lda;
    for (int64_t p = 0; p < k; ++p) tile[p * w.tile_rows_ + r] = src[p];
    if (consumed && (row % w.tile_rows_ == w.tile_rows_ - 1 || row + 1 == m)) consumed(src + k);
  }
  return w;
}

void PackedWeights::unpack_rows(float* a, int64_t lda) const {
  const int64_t group_rows = n_ / groups_;
  for (int64_t row = 0; row < n_; ++row) {
    const int64_t g = row / group_rows, in_group = row % group_rows;
    const float* tile = row_tile(g, in_group / tile_rows_);
    const int64_t r = in_group % tile_rows_;
    for (int64_t p = 0; p < k_; ++p) a[row * lda + p] = tile[p * tile_rows_ + r];
  }
}

void multiply_gathered_tile(const GatheredTileProduct& t) {
#if ONNX_MINI_HAVE_PACKED_GEMM
  const int kind = t.run_steps ? (t.a_rows_consecutive ? 4 : 3) : t.prefetch_b ? 1 : t.prefetch_lines > 0 ? 2 : 0;
  kGatheredKernels[kind][t.rows](t);
#else
  (void)t;  // needs supported(): never reached
#endif
}

void multiply_row_tile(const RowTileProduct& t, const RegisterEpilogue& epilogue) {
#if ONNX_MINI_HAVE_PACKED_GEMM
  const TileArgs args{t.kc, t.a, 1, t.a_stride, t.b, t.ldb, t.y, t.ldy, t.cols, t.first, t.last, 1.0f, &epilogue};
  if (t.cols > kPanel) return kWideRowTileKernels[t.rows](args);
  kRowTileKernels[t.b_padded ? 0 : 1][t.cols > 16 ? 1 : 0][t.rows](args);
#else
  (void)t, (void)epilogue;  // needs supported(): never reached
#endif
}

void PackedPanels::multiply(int64_t m, const float* a, int64_t lda, float alpha, float* y, int64_t ldy,
                            const TileEpilogue* epilogue, ThreadPool* pool) const {
  const int64_t panels = (n_ + kPanel - 1) / kPanel;
  const int64_t row_chunks = (m + kRowChunk - 1) / kRowChunk;
  if (m * n_ * k_ < kMinParallelMacs) pool = nullptr;
  // Panels per task: one, while a task's rows of A fit in L2 anyway (every
  // small-batch product; one panel after another streams the weight in order);
  // else up to kMaxPanelsPerTask, but at least kTasksPerThread tasks per thread
  // where the panels allow it, for balance.
  const int64_t threads = pool ? pool->num_threads() : 1;
  const bool a_fits_l2 = std::min(m, kRowChunk) * k_ * static_cast<int64_t>(sizeof(float)) <= kL2ResidentBytes;
  const int64_t group =
      a_fits_l2 ? 1 : std::clamp<int64_t>(panels * row_chunks / (kTasksPerThread * threads), 1, kMaxPanelsPerTask);
  const int64_t groups = (panels + group - 1) / group;
  MultiplyJob job{data_, k_, n_, m, row_chunks, panels, group, a, lda, alpha, y, ldy, epilogue, {}};
  if (epilogue && epilogue->in_registers(&job.in_registers)) job.epilogue = nullptr;
  for_each_task(pool, groups * row_chunks, run_task, &job);
}

std::shared_ptr<const PackedWeights> PackedWeightRequests::request(const Tensor& b, bool trans_b) {
  for (const Request& r : requests_) {
    if (r.source.raw_data() == b.raw_data() && r.source.shape() == b.shape() &&
        r.layout == PackedWeights::Layout::kColumnPanels && r.trans_b == trans_b) {
      return r.packed;
    }
  }
  requests_.push_back(Request{b, PackedWeights::Layout::kColumnPanels, trans_b, 1, std::make_shared<PackedWeights>()});
  return requests_.back().packed;
}

std::shared_ptr<const PackedWeights> PackedWeightRequests::request_rows(const Tensor& a, int64_t groups) {
  for (const Request& r : requests_) {
    if (r.source.raw_data() == a.raw_data() && r.source.shape() == a.shape() &&
        r.layout == PackedWeights::Layout::kRowTiles && r.groups == groups) {
      return r.packed;
    }
  }
  Request r{a, PackedWeights::Layout::kRowTiles, false, groups, std::make_shared<PackedWeights>()};
  requests_.push_back(std::move(r));
  return requests_.back().packed;
}

std::shared_ptr<const PackedWeights> PackedWeightRequests::request_grouped(const Tensor& b, int64_t groups) {
  for (const Request& r : requests_) {
    if (r.source.raw_data() == b.raw_data() && r.source.shape() == b.shape() &&
        r.layout == PackedWeights::Layout::kColumnPanels && r.trans_b && r.groups == groups) {
      return r.packed;
    }
  }
  requests_.push_back(Request{b, PackedWeights::Layout::kColumnPanels, true, groups, std::make_shared<PackedWeights>()});
  return requests_.back().packed;
}

void PackedWeightRequests::fulfil(Request& r, const PackedWeights::ConsumedFn& consumed) {
  const Tensor& b = r.source;
  if (r.layout == PackedWeights::Layout::kColumnPanels && (r.groups != 1 || b.rank() != 2)) {
    const int64_t n = b.dim(0), k = b.num_elements() / n;
    *r.packed = PackedWeights::pack_grouped(b.data<float>(), n, k, r.groups, consumed);
    return;
  }
  if (r.layout == PackedWeights::Layout::kRowTiles) {
    const int64_t m = b.dim(0), k = b.num_elements() / m;
    *r.packed = PackedWeights::pack_rows(b.data<float>(), m, k, k, r.groups, consumed);
    return;
  }
  const int64_t k = r.trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = r.trans_b ? b.dim(0) : b.dim(1);
  *r.packed = PackedWeights::pack(b.data<float>(), k, n, b.dim(1), r.trans_b, consumed);
}

Tensor PackedWeightRequests::unpack(const Request& r, const Shape& shape) {
  Tensor t = Tensor::allocate_for_overwrite(DataType::kFloat, shape);
  if (r.layout == PackedWeights::Layout::kRowTiles) {
    r.packed->unpack_rows(t.data<float>(), r.packed->k());
  } else {
    // A [n, ...] source read transposed is dense [n, k]; a plain one is [k, n].
    r.packed->unpack(t.data<float>(), r.trans_b ? r.packed->k() : shape[1], r.trans_b);
  }
  return t;
}

}  // namespace onnx_mini
