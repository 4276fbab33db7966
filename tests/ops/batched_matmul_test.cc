// The float batched MatMul on the packed kernel (ops/batched_matmul.h): every
// batch-broadcast form attention and feed-forward layers produce, on the
// calling thread and on a pool, against a double-precision reference; and the
// broadcast offset arithmetic on its own.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/batched_matmul.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

Shape broadcast(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1, db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[rank - 1 - i] = std::max(da, db);
  }
  return out;
}

struct Case {
  Shape a_batch, b_batch;
  int64_t m, k, n;
};

void check(const Case& c, ThreadPool* pool) {
  Shape a_shape = c.a_batch, b_shape = c.b_batch;
  a_shape.insert(a_shape.end(), {c.m, c.k});
  b_shape.insert(b_shape.end(), {c.k, c.n});
  const Tensor a = random_tensor(a_shape, 1), b = random_tensor(b_shape, 2);
  const Shape batch = broadcast(c.a_batch, c.b_batch);
  const int64_t count = num_elements(batch);
  std::vector<float> y(static_cast<size_t>(count * c.m * c.n), NAN);
  batched_matmul_packed({a.data<float>(), b.data<float>(), y.data(), c.m, c.n, c.k, c.a_batch, c.b_batch, batch}, pool);
  for (int64_t i = 0; i < count; ++i) {
    const std::vector<int64_t> idx = unravel(i, batch);
    const float* ai = a.data<float>() + broadcast_source(idx, c.a_batch, batch) * c.m * c.k;
    const float* bi = b.data<float>() + broadcast_source(idx, c.b_batch, batch) * c.k * c.n;
    for (int64_t r = 0; r < c.m; ++r) {
      for (int64_t col = 0; col < c.n; ++col) {
        double ref = 0, magnitude = 0;
        for (int64_t j = 0; j < c.k; ++j) {
          ref += double(ai[r * c.k + j]) * bi[j * c.n + col];
          magnitude += std::fabs(double(ai[r * c.k + j]) * bi[j * c.n + col]);
        }
        // Float accumulation over k terms in any order: at most k float
        // roundings of partial sums bounded by the sum of |terms|.
        const double bound = c.k * std::ldexp(magnitude, -24) + 1e-30;
        const float got = y[static_cast<size_t>((i * c.m + r) * c.n + col)];
        ASSERT_LE(std::fabs(got - ref), bound) << "batch " << i << " row " << r << " col " << col;
      }
    }
  }
}

TEST(BatchedMatMul, BroadcastFormsMatchReference) {
  if (!PackedWeights::supported()) GTEST_SKIP() << "the packed kernel needs AVX-512F";
  ThreadPool pool(2);
  const std::vector<Case> cases = {
      {{2, 4}, {2, 4}, 33, 16, 40},  // attention Q K^T: batch x heads on both sides
      {{2, 4}, {2, 4}, 17, 40, 16},  // P V
      {{4, 1}, {3}, 5, 7, 9},        // both broadcast
      {{2, 3}, {}, 6, 8, 70},        // one B for every batch: stacked into one product
      {{1}, {5}, 3, 4, 33},          // A broadcast over B's batches
      {{3}, {3}, 1, 1, 1},           // 1 x 1 x 1
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("m " + std::to_string(c.m) + " k " + std::to_string(c.k) + " n " + std::to_string(c.n));
    check(c, nullptr);
    check(c, &pool);
  }
}

TEST(BatchedMatMul, BroadcastOffset) {
  const Shape batch = {2, 3, 4};
  EXPECT_EQ(broadcast_batch_offset({2, 3, 4}, batch, 23), 23);
  EXPECT_EQ(broadcast_batch_offset({3, 1}, batch, 23), 2);  // index (1, 2, 3) -> (2, 0)
  EXPECT_EQ(broadcast_batch_offset({4}, batch, 23), 3);
  EXPECT_EQ(broadcast_batch_offset({}, batch, 23), 0);
  EXPECT_EQ(broadcast_batch_offset({2, 1, 1}, batch, 23), 1);
}

}  // namespace
}  // namespace onnx_mini::testing
