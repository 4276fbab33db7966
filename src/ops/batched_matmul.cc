#include "ops/batched_matmul.h"

#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "ops/scratch.h"

namespace onnx_mini {

int64_t broadcast_batch_offset(std::span<const int64_t> in, std::span<const int64_t> batch, int64_t index) {
  // Walk the batch dims from the last: the digit of `index` in each dim, times
  // the operand's stride there (0 where the operand has size 1 or no dim).
  const size_t rank = batch.size(), in_rank = in.size();
  int64_t offset = 0, stride = 1;
  for (size_t d = rank; d-- > 0;) {
    const int64_t digit = index % batch[d];
    index /= batch[d];
    const size_t from_back = rank - 1 - d;
    if (from_back >= in_rank) continue;
    const int64_t in_dim = in[in_rank - 1 - from_back];
    if (in_dim != 1) offset += digit * stride;
    stride *= in_dim;
  }
  return offset;
}

void matmul_packed_per_run(const float* a, const float* b, float* y, int64_t m, int64_t n, int64_t k,
                           ScratchSlot slot, ThreadPool* pool) {
  float* storage = thread_scratch(slot, PackedPanels::floats_needed(k, n));
  PackedPanels::pack(b, k, n, n, false, storage).multiply(m, a, k, 1.0f, y, n, nullptr, pool);
}

void batched_matmul_packed(const BatchedMatMulArgs& p, ThreadPool* pool) {
  const int64_t count = num_elements(p.batch);
  // One B for every batch (num_elements(b_batch) == 1) and A not broadcast:
  // the batches stack into one product of count * m rows against B packed once.
  if (num_elements(p.b_batch) == 1 && num_elements(p.a_batch) == count) {
    matmul_packed_per_run(p.a, p.b, p.y, count * p.m, p.n, p.k, ScratchSlot::kPackedB, pool);
    return;
  }
  for_each_task(pool, count, [&](int64_t i) {
    const float* a = p.a + broadcast_batch_offset(p.a_batch, p.batch, i) * p.m * p.k;
    const float* b = p.b + broadcast_batch_offset(p.b_batch, p.batch, i) * p.k * p.n;
    matmul_packed_per_run(a, b, p.y + i * p.m * p.n, p.m, p.n, p.k, ScratchSlot::kPackedB, nullptr);
  });
}

}  // namespace onnx_mini
