// Throughput of one session run from 1, 2 and 4 threads at once (the
// 784-512-256-10 MLP at batch 1, a session of 1 thread): runs per second over
// all callers (items_per_second). On a machine with fewer cores than callers
// the callers time-share; the run's own frames keep them from sharing buffers.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>

#include "bench/mlp_model.h"
#include "graph/onnx_loader.h"
#include "runtime/session.h"

namespace onnx_mini {
namespace {

Session& shared_session() {
  static std::once_flag once;
  static std::unique_ptr<Session> session;
  std::call_once(once, [] {
    onnx::ModelProto model = bench::make_mlp({{784, 512, 256, 10}, bench::LinearForm::kGemm, /*softmax_head=*/true});
    auto graph = graph_from_model(model, "");
    SessionOptions options;
    options.threads = 1;
    session = std::move(Session::from_graph(std::move(graph).value(), options)).value();
  });
  return *session;
}

void BM_OneSessionManyCallers(benchmark::State& state) {
  Session& session = shared_session();
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {1, 784})}};
  float* x = inputs[0].tensor.data<float>();
  for (int i = 0; i < 784; ++i) x[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    if (!session.run(inputs, outputs).is_ok()) state.SkipWithError("run failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OneSessionManyCallers)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

}  // namespace
}  // namespace onnx_mini

BENCHMARK_MAIN();
