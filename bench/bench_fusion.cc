// Fused vs unfused, same graph, same session code: only opt_level differs
// (0 = as loaded, 1 = clean-ups and fusions). One thread, so the ratio measures
// the kernels, not the scheduling.
//
//   BM_Mlp/<batch>/<fused>:  MLP 784-512-256-10, Gemm(transB) + Relu per hidden
//     layer (the nn.Linear export); fused = FusedGemm with the Relu in its epilogue.
//   BM_SoftmaxCrossEntropy/<classes>/<fused>: logits [64, C] -> LogSoftmax(axis=1)
//     -> NegativeLogLikelihoodLoss(mean); fused = one SoftmaxCrossEntropyLoss.
//
// Ratio = unfused time / fused time (> 1: the fusion is faster).
#include <benchmark/benchmark.h>

#include <random>

#include "graph/ir.h"
#include "runtime/session.h"

namespace onnx_mini {
namespace {

Tensor random_tensor(const Shape& shape, uint32_t seed, float scale = 1.0f) {
  Tensor t = Tensor::allocate(DataType::kFloat, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

class Builder {
 public:
  Builder() { g_.opset_imports()[""] = 17; }
  ValueId value(const std::string& name) {
    ValueId v = g_.find_value(name);
    return v != kNoId ? v : g_.add_value(name);
  }
  void input(const std::string& name, DataType t, const Shape& s) {
    ValueId v = value(name);
    g_.value(v).is_graph_input = true;
    g_.value(v).info = TensorInfo::of(t, s);
    g_.inputs().push_back(v);
  }
  void initializer(const std::string& name, Tensor t) {
    ValueId v = value(name);
    g_.value(v).info = TensorInfo::of(t.dtype(), t.shape());
    g_.value(v).initializer = std::move(t);
  }
  // False when the op is not registered (a kernel from another family not merged yet).
  bool node(const std::string& op, const std::vector<std::string>& ins, const std::string& out,
            std::map<std::string, Attribute> attrs = {}) {
    Node n;
    n.op_type = op;
    n.name = out;
    n.opset = 17;
    n.def = default_registry().find(op, "", 17);
    if (!n.def) return false;
    for (auto& [k, a] : attrs) n.attrs.set(k, a);
    for (const auto& i : ins) n.inputs.push_back(value(i));
    n.outputs.push_back(value(out));
    g_.add_node(std::move(n));
    return true;
  }
  void output(const std::string& name) {
    g_.value(value(name)).is_graph_output = true;
    g_.outputs().push_back(value(name));
  }
  Graph& graph() { return g_; }

 private:
  Graph g_;
};

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}

void run_session(benchmark::State& state, Graph g, const std::vector<NamedTensor>& feeds, bool fused) {
  SessionOptions opts;
  opts.threads = 1;
  opts.opt_level = fused ? 1 : 0;
  Status s = infer_shapes(g);
  if (!s.is_ok()) return state.SkipWithError(s.message().c_str());
  auto session = Session::from_graph(std::move(g), opts);
  if (!session.is_ok()) return state.SkipWithError(session.status().message().c_str());
  std::vector<Tensor> outs;
  for (auto _ : state) {
    Status r = session.value()->run(feeds, outs);
    if (!r.is_ok()) return state.SkipWithError(r.message().c_str());
    benchmark::DoNotOptimize(outs[0].raw_data());
  }
}

void BM_Mlp(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const bool fused = state.range(1) != 0;
  const int64_t sizes[] = {784, 512, 256, 10};
  Builder b;
  b.input("x0", DataType::kFloat, {batch, 784});
  for (int l = 0; l < 3; ++l) {
    const std::string id = std::to_string(l);
    b.initializer("W" + id, random_tensor({sizes[l + 1], sizes[l]}, 10 + l, 0.05f));
    b.initializer("B" + id, random_tensor({sizes[l + 1]}, 20 + l, 0.05f));
    const std::string h = l == 2 ? "logits" : "h" + id;
    b.node("Gemm", {"x" + id, "W" + id, "B" + id}, h, {{"transB", int_attr(1)}});
    if (l < 2) b.node("Relu", {h}, "x" + std::to_string(l + 1));
  }
  b.output("logits");
  run_session(state, std::move(b.graph()), {{"x0", random_tensor({batch, 784}, 1)}}, fused);
}
BENCHMARK(BM_Mlp)->ArgsProduct({{1, 64, 256}, {0, 1}})->ArgNames({"batch", "fused"})->Unit(benchmark::kMicrosecond);

void BM_SoftmaxCrossEntropy(benchmark::State& state) {
  const int64_t classes = state.range(0);
  const bool fused = state.range(1) != 0;
  const int64_t n = 64;
  Builder b;
  b.input("logits", DataType::kFloat, {n, classes});
  b.input("labels", DataType::kInt64, {n});
  if (!b.node("LogSoftmax", {"logits"}, "log_prob", {{"axis", int_attr(1)}}) ||
      !b.node("NegativeLogLikelihoodLoss", {"log_prob", "labels"}, "loss")) {
    return state.SkipWithError("NegativeLogLikelihoodLoss is not registered");
  }
  b.output("loss");
  Tensor labels = Tensor::allocate(DataType::kInt64, {n});
  for (int64_t i = 0; i < n; ++i) labels.data<int64_t>()[i] = (i * 7919) % classes;
  run_session(state, std::move(b.graph()), {{"logits", random_tensor({n, classes}, 2, 5.0f)}, {"labels", labels}},
              fused);
}
BENCHMARK(BM_SoftmaxCrossEntropy)
    ->ArgsProduct({{10, 1000, 32000}, {0, 1}})
    ->ArgNames({"classes", "fused"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace onnx_mini

BENCHMARK_MAIN();
