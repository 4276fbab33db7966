// The one float GEMM: Y = act(alpha * op(A) * op(B) + beta * C), behind Gemm
// (act = identity), FusedGemm (act from its `activation` attribute) and MatMul
// with a 2-D B (alpha = 1, no C). Like ONNX Runtime's FusedGemm, which derives
// from its Gemm, a plain float Gemm is a FusedGemm without activation, so a
// model runs the same code at -O0 and -O1.
//
// Paths, chosen per run by path() from the shapes:
// - packed: a constant B (the layer's weight), whatever its size, is packed once
//   at session build (ops/packed_gemm.h, CPUs with AVX-512F, transA = 0) and
//   every run is one packed multiply whose micro-kernel hands each finished
//   register tile (12 rows x 32 columns) to the epilogue, which adds the bias
//   and applies the activation while the tile is in L1. The session then lets
//   go of the original weight when nothing else reads it (runtime/session.cc).
// Otherwise (no AVX-512F, ONNX_MINI_PACKED_GEMM=0, a fed B, transA) OpenBLAS,
// held at one thread, with the epilogue after each call:
// - gemv: M = 1 is a matrix-vector product, several times faster in sgemv.
// - swapped: small batches against an nn.Linear weight (transA = 0, transB = 1,
//   kSwapMinRows <= M <= kSwapMaxRows, N >= kSwapMinCols): OpenBLAS's sgemm with
//   a few rows of A spends much of its time packing the whole of W, so
//   Y^T = W * X^T is computed instead into a per-thread scratch [N, M] that the
//   epilogue reads transposed.
// - blocked: row blocks of at most kCacheBudgetBytes of output (>= kMinBlockRows
//   rows, so OpenBLAS stays at full speed), each one sgemm call followed at once
//   by its epilogue over data still in L2; the blocks are spread over the
//   session's threads.
#pragma once

#include <climits>
#include <cstdint>
#include <memory>

#include "ops/gemm_epilogue.h"
#include "ops/kernel.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

struct GemmAttributes {
  float alpha = 1, beta = 1;
  bool trans_a = false, trans_b = false;
  // ONNX Gemm's alpha, beta, transA, transB with the spec's defaults.
  static Result<GemmAttributes> parse(const Attributes& attrs);
};

// The ranks A may have when transA = 0 (with transA it must be 2-D): Gemm 2,
// FusedGemm >= 2, MatMul >= 1. A's leading dims are flattened into M and kept
// in the output ([..., K] x [K, N] -> [..., N]; a 1-D A gives [N]).
struct ARank {
  int min = 2, max = 2;
};
inline constexpr ARank kMatrixA{2, 2}, kBatchedA{2, INT_MAX}, kMatMulA{1, INT_MAX};

// Checks that C (rank <= 2) broadcasts unidirectionally to [m, n] and gives the
// strides to read it as [m, n] (0 along broadcast dims). Gemm's double path
// uses the same check.
Status bias_strides(const Shape& c, int64_t m, int64_t n, int64_t* row_stride, int64_t* col_stride);

// Shape inference of Y for Gemm and FusedGemm (A's rank as `a_rank`).
Status infer_gemm_output(const NodeInfo& node, const GemmAttributes& attrs, ARank a_rank,
                         std::vector<TensorInfo>& outputs);

enum class GemmPath { kEmptyOutput, kEmptyReduction, kPacked, kGemv, kSwapped, kBlocked };
const char* gemm_path_name(GemmPath path);

class FloatGemm {
 public:
  // B (input 1) is packed when constant, 2-D float and the CPU runs the packed
  // kernel (and transA = 0): through node.packed_weights in a session, or right
  // here outside one.
  Status init(const NodeInfo& node, const GemmAttributes& attrs, ARank a_rank, std::unique_ptr<Epilogue> epilogue);

  // Inputs A, B, C (C optional) from ctx, output 0.
  Status run(KernelContext& ctx) const;

  // The path run() takes for an op(A) of m rows against an op(B) of k x n.
  GemmPath path(int64_t m, int64_t n, int64_t k) const;
  // Whether B is a packed constant: run() then never reads input 1.
  bool packed() const { return packed_ != nullptr; }

 private:
  struct Operands {
    const float* a;
    const float* b;  // null on the packed path
    int64_t m, n, k;
  };
  Result<Operands> operands(KernelContext& ctx) const;
  Result<Tensor*> output(KernelContext& ctx, const Operands& op) const;
  Result<BiasView> bias(const Tensor* c, int64_t m, int64_t n) const;

  void run_empty_reduction(float* y, const Operands& op, const BiasView& bias) const;
  void run_packed(float* y, const Operands& op, const BiasView& bias, ThreadPool* pool) const;
  void run_gemv(float* y, const Operands& op, const BiasView& bias) const;
  void run_swapped(float* y, const Operands& op, const BiasView& bias) const;
  void run_blocked(float* y, const Operands& op, const BiasView& bias, ThreadPool* pool) const;

  GemmAttributes attrs_;
  ARank a_rank_;
  std::shared_ptr<const PackedWeights> packed_;  // op(B) packed, when B is constant and packable
  std::unique_ptr<Epilogue> epilogue_;
};

}  // namespace onnx_mini
