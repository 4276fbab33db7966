// The packed GEMM (ops/packed_gemm.*) against OpenBLAS's sgemm on the same
// product, for an nn.Linear weight W [N, K] (transB = 1), one thread unless the
// `threads` argument says otherwise. Counter `GFLOPs` = 2 M N K per second.
//
//   BM_Linear/m:M/k:K/n:N/packed:P/threads:T
//
// The 12 x 256 x 32 case keeps everything in L1: the micro-kernel's own peak.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/random_data.h"
#include "ops/blas.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"

namespace onnx_mini {
namespace {

using bench::random_vector;

void BM_Linear(benchmark::State& state) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const bool packed = state.range(3) != 0;
  const int threads = static_cast<int>(state.range(4));
  if (packed && !PackedWeights::supported()) {
    state.SkipWithError("this CPU has no AVX-512F: no packed kernel");
    return;
  }
  blas::set_num_threads(threads);
  ThreadPool pool(threads);
  std::vector<float> x = random_vector(m * k, 1), w = random_vector(n * k, 2), y(static_cast<size_t>(m * n));
  const PackedWeights pw = packed ? PackedWeights::pack(w.data(), k, n, k, true) : PackedWeights();
  for (auto _ : state) {
    if (packed) {
      pw.multiply(m, x.data(), k, 1.0f, y.data(), n, nullptr, &pool);
    } else {
      blas::sgemm(false, true, m, n, k, 1.0f, x.data(), k, w.data(), k, 0.0f, y.data(), n);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k) * state.iterations(),
                                                benchmark::Counter::kIsRate);
}

void linear_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n", "packed", "threads"});
  for (int64_t t : {1, 2}) {
    for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{12, 256, 32}, {1, 784, 512}, {16, 784, 512},
                           {16, 512, 256}, {64, 784, 512}, {256, 784, 512}, {256, 512, 256}, {256, 256, 10},
                           {256, 512, 512},
                           // The large MLP's middle layer (4096 -> 4096): a 64 MiB weight.
                           {1, 4096, 4096}, {16, 4096, 4096}, {256, 4096, 4096}, {256, 1024, 4096}, {256, 4096, 1000}}) {
      for (int64_t p : {0, 1}) b->Args({m, k, n, p, t});
    }
  }
  b->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_Linear)->Apply(linear_args)->UseRealTime();

}  // namespace
}  // namespace onnx_mini

BENCHMARK_MAIN();
