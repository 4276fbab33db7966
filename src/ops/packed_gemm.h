// Y = alpha * A * op(B) for a constant weight B packed once at session build,
// with the caller's epilogue (bias, activation) applied to each finished output
// tile while it is still in L1. This is FusedGemm's fast path on CPUs with
// AVX-512F; elsewhere FusedGemm uses OpenBLAS (ops/blas.h).
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

#include "core/tensor.h"

namespace onnx_mini {

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

class PackedWeights {
 public:
  static constexpr int64_t kPanelCols = 32;

  // True when this CPU can run the packed kernel (AVX-512F).
  static bool supported();
  // supported() and not turned off with ONNX_MINI_PACKED_GEMM=0 (read on every
  // call, i.e. at session build): for benchmarks against OpenBLAS and for tests
  // of the OpenBLAS paths, which the packed kernel would otherwise hide here.
  static bool enabled();

  // Packs op(B) [k, n]: B is [k, n] with row stride ldb, or [n, k] (an nn.Linear
  // weight) when trans_b. Needs k, n >= 1.
  static PackedWeights pack(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b);

  bool defined() const { return storage_.defined(); }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  size_t byte_size() const { return storage_.byte_size(); }

  // y [m, n] (row stride ldy) = alpha * a [m, k] (row stride lda) * op(B), then
  // epilogue->apply on each tile (when not null). Splits over ops/parallel.h's
  // threads. Needs supported() and m >= 1.
  void multiply(int64_t m, const float* a, int64_t lda, float alpha, float* y, int64_t ldy,
                const TileEpilogue* epilogue) const;

 private:
  Tensor storage_;  // [panels, k, kPanelCols]
  int64_t k_ = 0, n_ = 0;
};

}  // namespace onnx_mini
