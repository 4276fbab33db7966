// Y = alpha * A * op(B) for a constant weight B packed once at session build,
// with the caller's epilogue (bias, activation) applied to each finished output
// tile while it is still in L1. This is the float GEMM's path (ops/float_gemm.h)
// for every constant weight, whatever its size, on CPUs with AVX-512F;
// elsewhere it uses OpenBLAS (ops/blas.h).
//
// Why our own kernel next to OpenBLAS: an MLP layer at small and mid batch
// (M = 2..256 rows against a 784 x 512 weight) is where OpenBLAS 0.3.21 loses to
// ONNX Runtime: every sgemm call re-packs the whole weight for a few rows, and
// its threading does not pay at these sizes. A weight packed once, in the order
// the micro-kernel reads it, removes the packing from every run; the epilogue
// runs on a register-sized tile just stored, not in a second sweep; the work
// splits over the runtime's threads (ops/parallel.h) by column panels.
//
// Layout: op(B) [K, N] is cut into panels of kPanelCols columns; panel p holds,
// for k = 0..K-1, the kPanelCols values op(B)[k, p*kPanelCols + j] contiguously
// (the last panel zero-padded). The micro-kernel keeps a rows x kPanelCols tile
// of Y in registers and per k broadcasts one A value per row against the two
// vectors of the panel row.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace onnx_mini {

class ThreadPool;

// The epilogues the micro-kernel applies itself, in registers before its store:
// y = act(y + bias[col] + row_bias[row] + residual[row, col]), each term
// optional (null), act none, ReLU or a clamp. nn.Linear's bias and ReLU; a
// convolution's per-channel bias, its skip connection and ReLU / ReLU6.
struct RegisterEpilogue {
  const float* bias = nullptr;      // one value per column of Y
  const float* row_bias = nullptr;  // one value per row of Y
  const float* residual = nullptr;  // a tensor shaped like Y, row stride ld_residual
  int64_t ld_residual = 0;
  bool relu = false;  // x < 0 ? 0 : x (NaN and -0 kept, as ReluFn)
  bool clip = false;  // min(max(x, clip_lo), clip_hi), NaN kept (Clip, ReLU6)
  float clip_lo = 0, clip_hi = 0;
};

// Called once per finished tile of Y: rows x cols values at y (row stride ldy),
// whose top-left element is Y[row0, col0].
class TileEpilogue {
 public:
  virtual ~TileEpilogue() = default;
  virtual void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t row0, int64_t col0) const = 0;
  // When the epilogue is a RegisterEpilogue, the micro-kernel applies it and
  // apply() is not called: no store and reload of the tile, no call per tile.
  virtual bool in_registers(RegisterEpilogue* form) const {
    (void)form;
    return false;
  }
};

// op(B) in the kernel's panel layout, in storage someone else owns: a
// PackedWeights' tensor, or per-thread scratch for an operand that is fed at
// run time (attention's K^T and V, a batched MatMul's B), packed once per run
// and then reused by every row of A.
class PackedPanels {
 public:
  static constexpr int64_t kPanelCols = 32;

  // Floats a packing of a [k, n] op(B) occupies (n rounded up to whole panels).
  static int64_t floats_needed(int64_t k, int64_t n);
  // Packs op(B) [k, n] into `storage` (64-byte aligned, floats_needed(k, n)
  // floats): B is [k, n] with row stride ldb, or [n, k] when trans_b. Needs
  // k, n >= 1. `consumed` as PackedWeights::pack.
  using ConsumedFn = std::function<void(const float* end)>;
  static PackedPanels pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b, float* storage,
                           const ConsumedFn& consumed = nullptr);
  PackedPanels() = default;
  PackedPanels(const float* data, int64_t k, int64_t n) : data_(data), k_(k), n_(n) {}

  // y [m, n] (row stride ldy) = alpha * a [m, k] (row stride lda) * op(B), then
  // epilogue->apply on each tile (when not null). Splits over `pool` (null:
  // the calling thread alone). Needs PackedWeights::supported() and m >= 1.
  void multiply(int64_t m, const float* a, int64_t lda, float alpha, float* y, int64_t ldy,
                const TileEpilogue* epilogue, ThreadPool* pool) const;

  const float* data() const { return data_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

 private:
  const float* data_ = nullptr;  // [panels, k, kPanelCols]
  int64_t k_ = 0, n_ = 0;
};

class PackedWeights {
 public:
  static constexpr int64_t kPanelCols = PackedPanels::kPanelCols;
  // Rows of Y per micro-kernel call, at most (see packed_gemm.cc).
  static constexpr int64_t kMaxTileRows = 12;

  // Which operand of the product the weight is.
  // - kColumnPanels: the right operand op(B) [k, n], cut into panels of
  //   kPanelCols columns (a Gemm/MatMul weight; multiply()).
  // - kRowTiles: the left operand A [m, k] (a convolution's weight, rows = output
  //   channels), in `groups` blocks of m / groups rows, each cut into tiles of
  //   tile_rows() rows; tile t of group g holds, for p = 0..k-1, the tile_rows()
  //   values A[g * m / groups + t * tile_rows() + r, p] contiguously (the last
  //   tile of a group zero-padded). The right operand then comes per run
  //   (multiply_row_tile()).
  enum class Layout { kColumnPanels, kRowTiles };

  // True when this CPU can run the packed kernel (AVX-512F).
  static bool supported();
  // supported() and not turned off with ONNX_MINI_PACKED_GEMM=0 (read on every
  // call, i.e. at session build): for benchmarks against OpenBLAS and for tests
  // of the OpenBLAS paths, which the packed kernel would otherwise hide here.
  static bool enabled();

  // Packs op(B) [k, n]: B is [k, n] with row stride ldb, or [n, k] (an nn.Linear
  // weight) when trans_b. Needs k, n >= 1. B is read once, front to back; when
  // `consumed` is given it is called with each prefix [b, end) of B that packing
  // will not read again, so the caller can let go of those pages while the
  // rest is packed (the session does, for a weight nothing else reads).
  using ConsumedFn = PackedPanels::ConsumedFn;
  static PackedWeights pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b,
                            const ConsumedFn& consumed = nullptr);
  // Packs op(B) = B^T for B [n, k] (row stride k: a convolution's weight
  // [M, C/group, kernel...] viewed as [M, K]) in `groups` blocks of n / groups
  // columns, each cut into its own panels: panel p of group g is
  // group_panel(g, p). groups = 1 is pack(b, k, n, k, true).
  static PackedWeights pack_grouped(const float* b, int64_t n, int64_t k, int64_t groups,
                                    const ConsumedFn& consumed = nullptr);
  // Packs A [m, k] (row stride lda) in the kRowTiles layout; m divides by
  // groups, k, m >= 1. Read front to back, `consumed` as for pack().
  static PackedWeights pack_rows(const float* a, int64_t m, int64_t k, int64_t lda, int64_t groups,
                                 const ConsumedFn& consumed = nullptr);

  // Writes op(B)'s source back: B [k, n] (row stride ldb), or [n, k] when
  // trans_b. Exactly the values packed (packing only moves them).
  void unpack(float* b, int64_t ldb, bool trans_b) const;
  // Writes A [m, k] (row stride lda) back from the kRowTiles layout.
  void unpack_rows(float* a, int64_t lda) const;

  bool defined() const { return storage_.defined(); }
  Layout layout() const { return layout_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }  // kColumnPanels: columns of op(B); kRowTiles: rows of A
  size_t byte_size() const { return storage_.byte_size(); }

  // kColumnPanels: panels per group and panel p of group g (kPanelCols columns,
  // row r of the panel at + r * kPanelCols, 64-byte aligned).
  int64_t panels_per_group() const { return panels_per_group_; }
  const float* group_panel(int64_t group, int64_t panel) const {
    return storage_.data<float>() + (group * panels_per_group_ + panel) * k_ * kPanelCols;
  }
  // kRowTiles: rows per tile (8..12, chosen at packing so that a group's rows
  // waste the fewest padding rows), tiles per group, and tile t of group g.
  int64_t groups() const { return groups_; }
  int64_t tile_rows() const { return tile_rows_; }
  int64_t tiles_per_group() const { return tiles_per_group_; }
  const float* row_tile(int64_t group, int64_t tile) const {
    return storage_.data<float>() + (group * tiles_per_group_ + tile) * k_ * tile_rows_;
  }

  // y [m, n] (row stride ldy) = alpha * a [m, k] (row stride lda) * op(B), then
  // epilogue->apply on each tile (when not null). Splits over `pool` (null:
  // the calling thread alone). Needs supported(), kColumnPanels, groups() == 1
  // and m >= 1.
  void multiply(int64_t m, const float* a, int64_t lda, float alpha, float* y, int64_t ldy,
                const TileEpilogue* epilogue, ThreadPool* pool) const {
    panels().multiply(m, a, lda, alpha, y, ldy, epilogue, pool);
  }
  // The packing as a view for PackedPanels::multiply (kColumnPanels, groups() == 1).
  PackedPanels panels() const { return PackedPanels(storage_.data<float>(), k_, n_); }

 private:
  Tensor storage_;  // kColumnPanels: [panels, k, kPanelCols]; kRowTiles: [groups * tiles, k, tile_rows]
  Layout layout_ = Layout::kColumnPanels;
  int64_t k_ = 0, n_ = 0;
  int64_t groups_ = 1, tile_rows_ = 0, tiles_per_group_ = 0, panels_per_group_ = 0;
};

// One micro-kernel call against a row tile of a kRowTiles weight, for kernels
// that lay out the right operand themselves per run (a convolution's input
// patches, ops/conv_packed.cc):
//   Y [rows, cols] (+)= A [rows, kc] * B [kc, cols]
// A: `a` points at column k0 of a row tile (PackedWeights::row_tile(g, t) +
// k0 * tile_rows), element (r, p) at a[p * a_stride + r]. B: row p at b + p * ldb;
// `b_padded`: every row has kPanelCols readable floats (a packed panel, 64-byte
// aligned when ldb is a multiple of 16), else loads are masked to `cols`.
// first: Y starts from zero, else from the partial sums in y; last: the
// values stored are final and get `epilogue` (its pointers at the tile's origin).
// Needs supported(), 1 <= rows <= kMaxTileRows, 1 <= cols <= kPanelCols; or,
// with B a caller's (!b_padded), up to kWideTileCols columns for tiles of at
// most kWideTileMaxRows rows (3 vectors per B row: 24 accumulators).
inline constexpr int64_t kWideTileCols = 48;
inline constexpr int64_t kWideTileMaxRows = 8;
struct RowTileProduct {
  const float* a = nullptr;
  int64_t a_stride = 0;
  int64_t rows = 0, kc = 0, cols = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  bool b_padded = false;
  float* y = nullptr;
  int64_t ldy = 0;
  bool first = true, last = true;
};
void multiply_row_tile(const RowTileProduct& product, const RegisterEpilogue& epilogue);

// One micro-kernel call whose A rows are read through pointers and offsets (a
// convolution's input pixels read in place, ops/conv_packed.cc):
//   Y [rows, kPanelCols] (+)= A [rows, kc] * B [kc, kPanelCols]
// A element (r, p) is a_rows[r][a_offsets[p]]; B is a packed panel (row p at
// b + p * kPanelCols, 64-byte aligned); Y is the caller's tile buffer, row r at
// y + r * ldy, every column written. first: Y starts from zero, else the sums
// are added to it. prefetch_b: B is read for the first time here (it comes
// from L3 or memory), so the kernel asks for it ahead of its reads; a caller
// running more tiles against the same B sets it on the first only.
// prefetch_next, when prefetch_b is not set: the kernel asks for the
// prefetch_lines 64-byte lines from there into L2, one a depth step (so at
// most kc of them): the caller's next B, fetched while this B is in L1.
// run_steps, when not 0: the depth steps are taken in runs of run_steps
// with run_gap steps of A's offsets and B's rows left out between runs (the
// first run run_left steps long), so a caller can leave out the taps a
// tile's pixels read only padding through; kc counts the steps taken.
// Needs supported(), 1 <= rows <= kMaxTileRows.
struct GatheredTileProduct {
  const float* const* a_rows = nullptr;
  const int32_t* a_offsets = nullptr;
  int64_t rows = 0, kc = 0;
  const float* b = nullptr;
  int64_t run_steps = 0, run_gap = 0, run_left = 0;
  bool a_rows_consecutive = false;  // with run_steps: a_rows[r] == a_rows[0] + r for every r
  float* y = nullptr;
  int64_t ldy = 0;
  bool first = true;
  bool prefetch_b = false;
  const float* prefetch_next = nullptr;
  int64_t prefetch_lines = 0;
};
void multiply_gathered_tile(const GatheredTileProduct& product);

// The weights a session's kernels ask to have packed. A kernel asks while it is
// built (request) and gets a handle that is filled before the first run: the
// session packs every request once all kernels exist, when it knows which
// initializers nothing but packed kernels read, so it can let go of those while
// packing them (runtime/session.cc). One request per (storage, trans_b): a
// weight shared by several nodes is packed once.
class PackedWeightRequests {
 public:
  struct Request {
    Tensor source;  // the constant weight, a view of the initializer
    PackedWeights::Layout layout = PackedWeights::Layout::kColumnPanels;
    bool trans_b = false;  // kColumnPanels: source is op(B)'s transpose [n, ...] viewed as [n, k]
    int64_t groups = 1;    // source's dim 0 in `groups` blocks (pack_grouped / pack_rows)
    std::shared_ptr<PackedWeights> packed;  // filled by fulfil()
  };

  // A 2-D B as the right operand (kColumnPanels).
  std::shared_ptr<const PackedWeights> request(const Tensor& b, bool trans_b);
  // A weight of rank >= 2 [n, ...], viewed as [n, k], as the right operand's
  // transpose in `groups` column blocks (pack_grouped: a convolution's weight).
  std::shared_ptr<const PackedWeights> request_grouped(const Tensor& b, int64_t groups);
  // A weight of rank >= 2 as the left operand (kRowTiles): [m, ...] viewed as
  // [m, k], k the product of the other dims (a convolution's [M, C/group, k...]).
  std::shared_ptr<const PackedWeights> request_rows(const Tensor& a, int64_t groups);
  std::vector<Request>& requests() { return requests_; }
  // Packs the request's source into its handle, calling `consumed` as pack() does.
  static void fulfil(Request& r, const PackedWeights::ConsumedFn& consumed = nullptr);
  // The source's values again, from the packed handle (`shape`: the source's).
  static Tensor unpack(const Request& r, const Shape& shape);

 private:
  std::vector<Request> requests_;
};

}  // namespace onnx_mini
