#include "ops/packed_gemm.h"

#include <algorithm>
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
constexpr int kTileRows = 12;
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

// Y tile [R, cols] (+)= A [R, kc] * panel [kc, 32] with cols <= 16 * V: V = 2
// vectors per panel row, or 1 for a last panel of at most 16 columns (an output
// layer of 10 classes does a third of the work). `first`: the tile starts from
// zero, else from the partial sums already in Y; `last`: the stored values are
// final, scaled by alpha.
// On the last chunk, `epilogue` (bias of this tile's columns, ReLU) is applied
// after alpha, in the order of the scalar epilogue: act(alpha * sum + bias).
template <int R, int V>
__attribute__((target("avx512f"))) void micro_kernel(int64_t kc, const float* a, int64_t lda, const float* panel,
                                                     float* y, int64_t ldy, int64_t cols, bool first, bool last,
                                                     float alpha, const RegisterEpilogue& epilogue) {
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  const float* a_row[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) a_row[r] = a + r * lda;
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b[V];
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) b[v] = _mm512_load_ps(panel + p * kPanel + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a_row[r][p]);
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, b[v], acc[r][v]);
    }
  }
  __mmask16 mask[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const int64_t in_vector = std::clamp<int64_t>(cols - 16 * v, 0, 16);
    mask[v] = static_cast<__mmask16>((uint32_t{1} << in_vector) - 1);
  }
  const __m512 scale = _mm512_set1_ps(alpha);
  const bool scaled = last && alpha != 1.0f;
  const bool add_bias = last && epilogue.bias, relu = last && epilogue.relu;
  __m512 bias[V];
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) bias[v] = add_bias ? _mm512_maskz_loadu_ps(mask[v], epilogue.bias + 16 * v) : __m512{};
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    float* yr = y + r * ldy;
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      __m512 out = acc[r][v];
      if (!first) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask[v], yr + 16 * v));
      if (scaled) out = _mm512_mul_ps(out, scale);
      if (add_bias) out = _mm512_add_ps(out, bias[v]);
      // max(0, x) returns x when x is NaN (the second operand wins unordered)
      // and keeps -0 (0 > -0 is false): exactly ReluFn's x < 0 ? 0 : x.
      if (relu) out = _mm512_max_ps(zero, out);
      _mm512_mask_storeu_ps(yr + 16 * v, mask[v], out);
    }
  }
}

using MicroKernel = void (*)(int64_t, const float*, int64_t, const float*, float*, int64_t, int64_t, bool, bool, float,
                             const RegisterEpilogue&);

template <int V, int... R>
constexpr std::array<MicroKernel, kTileRows + 1> micro_kernels(std::integer_sequence<int, R...>) {
  return {nullptr, micro_kernel<R + 1, V>...};
}
// [V - 1][rows]: the kernel for a tile of `rows` rows and V vectors per panel row.
constexpr std::array<MicroKernel, kTileRows + 1> kMicroKernels[2] = {
    micro_kernels<1>(std::make_integer_sequence<int, kTileRows>{}),
    micro_kernels<2>(std::make_integer_sequence<int, kTileRows>{})};

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
    kMicroKernels[vectors - 1][rows](kc, job.a + i * job.lda + k0, job.lda, panel + k0 * kPanel, tile, job.ldy, cols,
                                     first, last, job.alpha, in_registers);
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
    for (int64_t p = 0; p < panels; ++p) {
      float* panel = dst + p * k * kPanel;
      const int64_t col0 = p * kPanel;
      const int64_t cols = std::min(kPanel, n - col0);
      for (int64_t j = 0; j < cols; ++j) {
        const float* src = b + (col0 + j) * ldb;
        for (int64_t kk = 0; kk < k; ++kk) panel[kk * kPanel + j] = src[kk];
      }
      if (consumed) consumed(b + (col0 + cols - 1) * ldb + k);
    }
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
  w.k_ = k;
  w.n_ = n;
  const int64_t panels = (n + kPanel - 1) / kPanel;
  w.storage_ = Tensor::allocate_for_overwrite(DataType::kFloat, Shape{panels, k, kPanel});
  PackedPanels::pack(b, k, n, ldb, trans_b, w.storage_.data<float>(), consumed);
  return w;
}

void PackedWeights::unpack(float* b, int64_t ldb, bool trans_b) const {
  const float* src = storage_.data<float>();
  for (int64_t col = 0; col < n_; ++col) {
    const float* panel = src + (col / kPanel) * k_ * kPanel;
    const int64_t j = col % kPanel;
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
    if (r.source.raw_data() == b.raw_data() && r.source.shape() == b.shape() && r.trans_b == trans_b) return r.packed;
  }
  requests_.push_back(Request{b, trans_b, std::make_shared<PackedWeights>()});
  return requests_.back().packed;
}

void PackedWeightRequests::fulfil(Request& r, const PackedWeights::ConsumedFn& consumed) {
  const Tensor& b = r.source;
  const int64_t k = r.trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = r.trans_b ? b.dim(0) : b.dim(1);
  *r.packed = PackedWeights::pack(b.data<float>(), k, n, b.dim(1), r.trans_b, consumed);
}

}  // namespace onnx_mini
