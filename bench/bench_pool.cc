// One MaxPool node through Session::run on the CNN shapes that spend time in
// it: SqueezeNet 1.1's three 3x3 stride-2 ceil_mode pools, the ResNet /
// MobileNet stem's 3x3 stride-2 pad-1 pool and a VGG-style 2x2 stride 2.
//
//   build/bench/bench_pool --benchmark_filter=MaxPoolRun
//
// Args: {shape, batch, threads}, shape an index into kShapes (the label says
// which). Counter GB/s = input + output bytes / real time: on a loaded machine
// compare the CPU column.
#include <benchmark/benchmark.h>

#include <iterator>
#include <vector>

#include "graph/onnx_loader.h"
#include "runtime/session.h"

namespace onnx_mini::bench {
namespace {

struct PoolShape {
  const char* label;
  int64_t channels, side, kernel, stride, pad;
  bool ceil_mode;
  int64_t out_side() const {
    const int64_t span = side + 2 * pad - kernel;
    return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  }
};

const PoolShape kShapes[] = {
    {"squeezenet 3x3/2 ceil 64 111", 64, 111, 3, 2, 0, true},
    {"squeezenet 3x3/2 ceil 128 55", 128, 55, 3, 2, 0, true},
    {"squeezenet 3x3/2 ceil 256 27", 256, 27, 3, 2, 0, true},
    {"resnet stem 3x3/2 pad1 64 112", 64, 112, 3, 2, 1, false},
    {"vgg 2x2/2 128 112", 128, 112, 2, 2, 0, false},
    {"3x3/1 pad1 64 56", 64, 56, 3, 1, 1, false},
};

onnx::ModelProto pool_model(const PoolShape& s) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  onnx::NodeProto& n = *g.add_node();
  n.set_op_type("MaxPool");
  n.set_name("pool");
  n.add_input("X");
  n.add_output("Y");
  auto ints = [&n](const char* name, std::vector<int64_t> v) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
  };
  ints("kernel_shape", {s.kernel, s.kernel});
  ints("strides", {s.stride, s.stride});
  ints("pads", {s.pad, s.pad, s.pad, s.pad});
  onnx::AttributeProto& ceil = *n.add_attribute();
  ceil.set_name("ceil_mode");
  ceil.set_type(onnx::AttributeProto::INT);
  ceil.set_i(s.ceil_mode ? 1 : 0);
  onnx::ValueInfoProto& x = *g.add_input();
  x.set_name("X");
  auto* xt = x.mutable_type()->mutable_tensor_type();
  xt->set_elem_type(onnx::TensorProto::FLOAT);
  xt->mutable_shape()->add_dim()->set_dim_param("N");
  for (int64_t d : {s.channels, s.side, s.side}) xt->mutable_shape()->add_dim()->set_dim_value(d);
  g.add_output()->set_name("Y");
  g.mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return m;
}

void MaxPoolRun(benchmark::State& state) {
  const PoolShape& s = kShapes[state.range(0)];
  const int64_t batch = state.range(1);
  onnx::ModelProto model = pool_model(s);
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
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {batch, s.channels, s.side, s.side})}};
  float* x = inputs[0].tensor.data<float>();
  for (int64_t i = 0; i < inputs[0].tensor.num_elements(); ++i) x[i] = static_cast<float>(i % 29) * 0.05f - 0.7f;
  std::vector<Tensor> outputs;
  for (auto _ : state) {
    Status st = (*session)->run(inputs, outputs);
    if (!st.is_ok()) {
      state.SkipWithError(st.message().c_str());
      break;
    }
    benchmark::DoNotOptimize(outputs[0].raw_data());
  }
  state.SetLabel(s.label);
  const double bytes = 4.0 * static_cast<double>(batch * s.channels) *
                       static_cast<double>(s.side * s.side + s.out_side() * s.out_side());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t shape = 0; shape < static_cast<int64_t>(std::size(kShapes)); ++shape) b->Args({shape, 1, 1});
  b->Args({0, 8, 1});
}

BENCHMARK(MaxPoolRun)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace onnx_mini::bench

BENCHMARK_MAIN();
