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
// y = relu?(y + bias[col]), bias null for none. nn.Linear's bias and ReLU.
struct RegisterEpilogue {
  const float* bias = nullptr;  // n values, one per column of Y
  bool relu = false;            // x < 0 ? 0 : x (NaN and -0 kept, as ReluFn)
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

  // Writes op(B)'s source back: B [k, n] (row stride ldb), or [n, k] when
  // trans_b. Exactly the values packed (packing only moves them).
  void unpack(float* b, int64_t ldb, bool trans_b) const;

  bool defined() const { return storage_.defined(); }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  size_t byte_size() const { return storage_.byte_size(); }

  // y [m, n] (row stride ldy) = alpha * a [m, k] (row stride lda) * op(B), then
  // epilogue->apply on each tile (when not null). Splits over `pool` (null:
  // the calling thread alone). Needs supported() and m >= 1.
  void multiply(int64_t m, const float* a, int64_t lda, float alpha, float* y, int64_t ldy,
                const TileEpilogue* epilogue, ThreadPool* pool) const {
    panels().multiply(m, a, lda, alpha, y, ldy, epilogue, pool);
  }
  PackedPanels panels() const { return PackedPanels(storage_.data<float>(), k_, n_); }

 private:
  Tensor storage_;  // [panels, k, kPanelCols]
  int64_t k_ = 0, n_ = 0;
};

// The weights a session's kernels ask to have packed. A kernel asks while it is
// built (request) and gets a handle that is filled before the first run: the
// session packs every request once all kernels exist, when it knows which
// initializers nothing but packed kernels read, so it can let go of those while
// packing them (runtime/session.cc). One request per (storage, trans_b): a
// weight shared by several nodes is packed once.
class PackedWeightRequests {
 public:
  struct Request {
    Tensor source;  // the constant B, a view of the initializer
    bool trans_b = false;
    std::shared_ptr<PackedWeights> packed;  // filled by fulfil()
  };

  std::shared_ptr<const PackedWeights> request(const Tensor& b, bool trans_b);
  std::vector<Request>& requests() { return requests_; }
  // Packs the request's source into its handle, calling `consumed` as pack() does.
  static void fulfil(Request& r, const PackedWeights::ConsumedFn& consumed = nullptr);

 private:
  std::vector<Request> requests_;
};

}  // namespace onnx_mini
