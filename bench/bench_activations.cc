// Throughput of each activation kernel (and Softmax, LogSoftmax, both losses)
// over 1M float32 values, one thread: the kernel from the registry, as a session
// runs it, on seeded data with the output allocated once.
//
//   BM_Activation/<op>:  x[1M] uniform in [-8, 8) (both arms of every split, the
//     saturating tails of Sigmoid/Tanh/Softplus), Gelu(tanh) is Gelu with
//     approximate = "tanh";
//   BM_Rows/<op>:        Softmax / LogSoftmax over [1000, 1000] logits in
//     [-8, 8); SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss (mean) over
//     the same [1000, 1000] scores with seeded labels.
//
// Before/after comparisons: run two builds of this binary interleaved (see
// bench/README.md) and compare medians of repetitions.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "ops/registry.h"

namespace onnx_mini {
namespace {

constexpr int64_t kValues = int64_t{1} << 20;
constexpr int64_t kRows = 1000, kClasses = 1000;

// A context whose outputs are allocated on the first run and reused after.
class BenchContext final : public KernelContext {
 public:
  explicit BenchContext(std::vector<const Tensor*> inputs) : inputs_(std::move(inputs)) {}
  int num_inputs() const override { return static_cast<int>(inputs_.size()); }
  const Tensor* input(int i) const override { return i < num_inputs() ? inputs_[static_cast<size_t>(i)] : nullptr; }
  int num_outputs() const override { return 1; }
  bool output_wanted(int i) const override { return i == 0; }
  Result<Tensor*> output(int i, const Shape& shape, DataType dtype) override {
    if (out_.shape() != shape || out_.dtype() != dtype) out_ = Tensor::allocate(dtype, shape);
    return &out_;
  }
  const std::string& node_name() const override { return name_; }

 private:
  std::vector<const Tensor*> inputs_;
  Tensor out_;
  std::string name_ = "bench";
};

Tensor uniform(const Shape& shape, uint32_t seed, float lo, float hi) {
  Tensor t = Tensor::allocate(DataType::kFloat, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

Tensor labels_for(int64_t rows, int64_t classes) {
  Tensor t = Tensor::allocate(DataType::kInt64, {rows});
  std::mt19937 gen(5);
  std::uniform_int_distribution<int64_t> dist(0, classes - 1);
  for (int64_t i = 0; i < rows; ++i) t.data<int64_t>()[i] = dist(gen);
  return t;
}

// Builds the op's kernel as the session would (shape inference, then init).
std::unique_ptr<Kernel> make(const std::string& op, int opset, const Attributes& attrs,
                             const std::vector<const Tensor*>& inputs) {
  const OpDef* def = default_registry().find(op, kOnnxDomain, opset);
  if (!def) return nullptr;
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(TensorInfo::of(t->dtype(), t->shape()));
  NodeInfo node;
  node.op_type = op;
  node.domain = kOnnxDomain;
  node.name = "bench";
  node.opset = opset;
  node.since_version = def->since_version;
  node.attributes = &attrs;
  node.num_outputs = 1;
  for (const TensorInfo& info : infos) node.inputs.push_back(&info);
  std::vector<TensorInfo> outs(1);
  if (!def->infer(node, outs).is_ok()) return nullptr;
  auto kernel = def->create(node);
  return kernel.is_ok() ? std::move(kernel).value() : nullptr;
}

void run(benchmark::State& state, const std::string& op, int opset, const Attributes& attrs,
         const std::vector<const Tensor*>& inputs, int64_t values) {
  std::unique_ptr<Kernel> kernel = make(op, opset, attrs, inputs);
  if (!kernel) {
    state.SkipWithError((op + " could not be built").c_str());
    return;
  }
  BenchContext ctx(inputs);
  for (auto _ : state) {
    Status s = kernel->run(ctx);
    if (!s.is_ok()) {
      state.SkipWithError(s.message().c_str());
      return;
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * values);
}

struct Unary {
  const char* label;
  const char* op;
  int opset;
  const char* gelu_mode = nullptr;
};

void register_all() {
  static const Tensor x = uniform({kValues}, 1, -8.0f, 8.0f);
  static const Tensor slope = uniform({1}, 2, 0.05f, 0.1f);
  static const Tensor scores = uniform({kRows, kClasses}, 3, -8.0f, 8.0f);
  static const Tensor labels = labels_for(kRows, kClasses);
  const Unary unary[] = {
      {"Relu", "Relu", 14},       {"LeakyRelu", "LeakyRelu", 16}, {"PRelu", "PRelu", 16},
      {"Sigmoid", "Sigmoid", 13}, {"Tanh", "Tanh", 13},           {"Elu", "Elu", 6},
      {"Selu", "Selu", 6},        {"Celu", "Celu", 12},           {"HardSigmoid", "HardSigmoid", 6},
      {"HardSwish", "HardSwish", 14}, {"Softplus", "Softplus", 1}, {"Softsign", "Softsign", 1},
      {"ThresholdedRelu", "ThresholdedRelu", 10}, {"Mish", "Mish", 18},
      {"Gelu", "Gelu", 20, "none"}, {"Gelu(tanh)", "Gelu", 20, "tanh"},
  };
  for (const Unary& u : unary) {
    Attributes attrs;
    if (u.gelu_mode) {
      Attribute mode;
      mode.kind = Attribute::Kind::kString;
      mode.s = u.gelu_mode;
      attrs.set("approximate", mode);
    }
    std::vector<const Tensor*> inputs = {&x};
    if (std::string(u.op) == "PRelu") inputs.push_back(&slope);
    benchmark::RegisterBenchmark((std::string("BM_Activation/") + u.label).c_str(),
                                 [=](benchmark::State& s) { run(s, u.op, u.opset, attrs, inputs, kValues); });
  }
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    benchmark::RegisterBenchmark((std::string("BM_Rows/") + op).c_str(), [=](benchmark::State& s) {
      run(s, op, 13, Attributes{}, {&scores}, kRows * kClasses);
    });
  }
  for (const char* op : {"SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"}) {
    benchmark::RegisterBenchmark((std::string("BM_Rows/") + op).c_str(), [=](benchmark::State& s) {
      run(s, op, 13, Attributes{}, {&scores, &labels}, kRows * kClasses);
    });
  }
}

}  // namespace
}  // namespace onnx_mini

int main(int argc, char** argv) {
  onnx_mini::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
