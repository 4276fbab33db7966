// The float batched MatMul ([..., M, K] x [..., K, N], batch dims broadcast),
// as attention computes Q x K^T and P x V: both operands are fed, so there is
// no weight to pack at session build. Each batch's B is packed per run into
// the packed kernel's panel layout (ops/packed_gemm.h), in per-thread scratch,
// and reused by all M rows of its A; the batches are spread over the
// session's threads. Packing B costs one read and one write of K x N floats,
// against M x K x N multiply-adds that then run at the micro-kernel's speed.
#pragma once

#include <cstdint>

#include "core/shape.h"

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

// Element offset (in units of its own matrices) of batch `index` of the
// broadcast batch shape in an operand with batch shape `in`: the offset of its
// matrix number, without allocating (ranks up to 8 on the stack).
int64_t broadcast_batch_offset(const Shape& in, const Shape& batch, int64_t index);

}  // namespace onnx_mini
