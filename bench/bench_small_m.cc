// Which sgemm orientation for small batches against an nn.Linear weight W [N, K]
// (transB = 1): Y = X * W^T (sgemm M = batch, N = out) versus the swapped
// Y^T = W * X^T (sgemm M = out, N = batch), the latter as FusedGemm runs it for
// small M. BLAS calls only, one thread, for each layer of the MLPs in
// bench_mlp (784 -> 512 -> 256 -> 10, 784 -> 128 -> 64 -> 10) and a 512 -> 32.
//
//   BM_LinearOrientation/m:M/k:K/n:N/swapped:S
//
// Picks FusedGemm's kSwapMinRows / kSwapMaxRows (ops/fused_gemm.cc).
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/random_data.h"
#include "ops/blas.h"

namespace onnx_mini {
namespace {

using bench::random_vector;

void BM_LinearOrientation(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool swapped = state.range(3) != 0;
  blas::set_num_threads(1);
  std::vector<float> x = random_vector(m * k, 1), w = random_vector(n * k, 2), y(static_cast<size_t>(m * n));
  for (auto _ : state) {
    if (swapped) {  // y holds Y^T [n, m]
      blas::sgemm(false, true, n, m, k, 1.0f, w.data(), k, x.data(), k, 0.0f, y.data(), m);
    } else {
      blas::sgemm(false, true, m, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

void orientation_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "swapped"});
  for (int64_t m : {2, 3, 4, 8, 16, 32, 64, 96, 128}) {
    for (auto [k, n] : {std::pair<int64_t, int64_t>{784, 512}, {512, 256}, {256, 10}, {784, 128}, {128, 64}, {512, 32}}) {
      for (int64_t s : {0, 1}) b->Args({m, k, n, s});
    }
  }
  b->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_LinearOrientation)->Apply(orientation_args);

}  // namespace
}  // namespace onnx_mini

BENCHMARK_MAIN();
