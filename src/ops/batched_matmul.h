// The float batched MatMul ([..., M, K] x [..., K, N], batch dims broadcast),
// as attention computes Q x K^T and P x V: both operands are fed, so there is
// no weight to pack at session build. Each batch's B is packed per run into
// the packed kernel's panel layout (ops/packed_gemm.h), in per-thread scratch,
// and reused by all M rows of its A; the batches are spread over the
// session's threads. Packing B costs one read and one write of K x N floats,
// against M x K x N multiply-adds that then run at the micro-kernel's speed.
#pragma once

#include <cstdint>
#include <span>

#include "core/shape.h"
#include "ops/scratch.h"

namespace onnx_mini {

class ThreadPool;

struct BatchedMatMulArgs {
  const float* a;  // [a_batch..., m, k]
  const float* b;  // [b_batch..., k, n]
  float* y;        // [batch..., m, n], batch = broadcast(a_batch, b_batch)
  int64_t m, n, k;
  const Shape& a_batch;
  const Shape& b_batch;
  const Shape& batch;
};

// Needs PackedWeights::supported() and m, n, k >= 1.
void batched_matmul_packed(const BatchedMatMulArgs& args, ThreadPool* pool);

// y [m, n] = a [m, k] * b [k, n], all dense: b packed into the calling
// thread's scratch `slot`, then multiplied on `pool` (null: the calling thread).
// Needs PackedWeights::supported() and m, n, k >= 1.
void matmul_packed_per_run(const float* a, const float* b, float* y, int64_t m, int64_t n, int64_t k,
                           ScratchSlot slot, ThreadPool* pool);

// Element offset (in units of its own matrices) of batch `index` of the
// broadcast batch shape in an operand with batch shape `in`: the offset of its
// matrix number, without allocating (ranks up to 8 on the stack).
int64_t broadcast_batch_offset(std::span<const int64_t> in, std::span<const int64_t> batch, int64_t index);
inline int64_t broadcast_batch_offset(const Shape& in, const Shape& batch, int64_t index) {
  return broadcast_batch_offset(std::span<const int64_t>(in), std::span<const int64_t>(batch), index);
}

}  // namespace onnx_mini
