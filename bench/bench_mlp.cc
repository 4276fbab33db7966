// Session::run on MLPs next to the same GEMM calls alone.
//
//   build/bench/bench_mlp --benchmark_filter='MlpRun|GemmOnly'
//
// Args: {model, batch, threads}; model 0 = 784-512-256-10, 1 = 784-128-64-10,
// 2 = 784 -> 20x512 -> 10 (ReLU between layers, Gemm with transB=1 as torch exports).
// GemmOnly makes the GEMM calls the runtime makes for those shapes, without
// bias, activations or dispatch: the packed kernel (ops/packed_gemm.h) where the
// runtime uses it (AVX-512F, ONNX_MINI_PACKED_GEMM not 0), else OpenBLAS with the
// runtime's routing (GEMV when M = 1). At batch 256 MlpRun should stay within
// 10% of it.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench/mlp_model.h"
#include "graph/onnx_loader.h"
#include "ops/blas.h"
#include "ops/packed_gemm.h"
#include "ops/parallel.h"
#include "runtime/session.h"

namespace onnx_mini::bench {
namespace {

const char* const kModels[] = {"784-512-256-10", "784-128-64-10", "deep20x512"};

void fill_input(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] = static_cast<float>(i % 29) * 0.05f - 0.7f;
}

void MlpRun(benchmark::State& state) {
  const std::vector<int64_t> widths = mlp_widths(kModels[state.range(0)]);
  const int64_t batch = state.range(1);
  onnx::ModelProto model = make_mlp(MlpSpec{widths});
  auto graph = graph_from_model(model, "");
  if (!graph.is_ok()) {
    state.SkipWithError(graph.status().message().c_str());
    return;
  }
  SessionOptions so;
  so.threads = static_cast<int>(state.range(2));
  auto session = Session::from_graph(std::move(graph).value(), so);
  if (!session.is_ok()) {
    state.SkipWithError(session.status().message().c_str());
    return;
  }
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {batch, widths.front()})}};
  fill_input(inputs[0].tensor.data<float>(), batch * widths.front());
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    Status st = (*session)->run(inputs, outputs);
    if (!st.is_ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(outputs[0].raw_data());
  }
  state.SetLabel(kModels[state.range(0)]);
}

void GemmOnly(benchmark::State& state) {
  const std::vector<int64_t> widths = mlp_widths(kModels[state.range(0)]);
  const int64_t batch = state.range(1);
  const int threads = static_cast<int>(state.range(2));
  blas::set_num_threads(threads);
  ThreadPool pool(threads);
  const bool packed = PackedWeights::enabled();
  const size_t layers = widths.size() - 1;
  std::vector<std::vector<float>> weights(layers), acts(layers + 1);
  std::vector<PackedWeights> packed_weights(layers);
  acts[0].resize(static_cast<size_t>(batch * widths[0]));
  fill_input(acts[0].data(), batch * widths[0]);
  for (size_t l = 0; l < layers; ++l) {
    const int64_t k = widths[l], n = widths[l + 1];
    weights[l].assign(static_cast<size_t>(k * n), 0.01f);
    acts[l + 1].assign(static_cast<size_t>(batch * n), 0.0f);
    if (packed) packed_weights[l] = PackedWeights::pack(weights[l].data(), k, n, k, true);
  }
  for (auto _ : state) {
    for (size_t l = 0; l < layers; ++l) {
      const int64_t k = widths[l], n = widths[l + 1];
      if (packed) {
        packed_weights[l].multiply(batch, acts[l].data(), k, 1.0f, acts[l + 1].data(), n, nullptr, &pool);
      } else if (batch == 1) {
        blas::sgemv(false, n, k, 1.0f, weights[l].data(), k, acts[l].data(), 1.0f, acts[l + 1].data());
      } else {
        blas::sgemm(false, true, batch, n, k, 1.0f, acts[l].data(), k, weights[l].data(), k, 1.0f,
                    acts[l + 1].data(), n);
      }
    }
    benchmark::DoNotOptimize(acts[layers].data());
  }
  state.SetLabel(std::string(kModels[state.range(0)]) + (packed ? " packed" : " openblas"));
}

// One Identity node at -O0 (kept in the graph): the per-run cost of binding
// inputs, dispatching one kernel and handing the output back.
void DispatchIdentity(benchmark::State& state) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  auto& g = *model.mutable_graph();
  set_float_value(*g.add_input(), "X", "N", 4);
  set_float_value(*g.add_output(), "Y", "N", 4);
  auto* n = g.add_node();
  n->set_op_type("Identity");
  n->add_input("X");
  n->add_output("Y");
  auto graph = graph_from_model(model, "");
  SessionOptions so;
  so.opt_level = 0;
  auto session = Session::from_graph(std::move(graph).value(), so);
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {1, 4})}};
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    benchmark::DoNotOptimize((*session)->run(inputs, outputs).is_ok());
  }
}

void mlp_args(benchmark::internal::Benchmark* b) {
  for (int64_t model : {0, 1, 2}) {
    for (int64_t batch : {1, 16, 256}) {
      for (int64_t threads : {1, 2}) b->Args({model, batch, threads});
    }
  }
  b->ArgNames({"model", "batch", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

BENCHMARK(MlpRun)->Apply(mlp_args);
BENCHMARK(GemmOnly)->Apply(mlp_args);
BENCHMARK(DispatchIdentity)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace onnx_mini::bench

BENCHMARK_MAIN();
