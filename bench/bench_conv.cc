// One convolution (Conv + bias, NCHW, constant weight) through Session::run,
// next to the textbook baseline: im2col into a buffer, then one OpenBLAS sgemm
// per image and group. One case per shape class of the CNN benchmarks:
//
//   build/bench/bench_conv --benchmark_filter='ConvRun|Im2colSgemm'
//
// Args: {shape, batch, threads}, shape an index into kShapes: 0 = 1x1 256 -> 64
// at 56x56 (ResNet bottleneck), 1 = 3x3 64 -> 64 at 56x56, 2 = 3x3 stride 2
// 128 -> 256 at 28x28, 3 = depthwise 3x3 144 channels at 56x56 (MobileNetV2),
// 4 = the 7x7 stride 2 stem 3 -> 64 at 224x224; then MobileNetV2's other
// depthwise and 1x1 classes, SqueezeNet 1.1's fire module and stem, and
// MobileNetV2's stem (the three stems also on 2 threads), then (from index 20,
// also at batch 1 on 2 threads) the 1x1s of small images and of stride 2,
// ResNet-18's 3x3s of large weights and MobileNetV2's remaining depthwise
// shapes, and the other 3x3 stride-1 layers of ResNet-18 and SqueezeNet (the
// label says which). The 3x3 stride-1 shapes run on Winograd (ONNX_MINI_WINOGRAD=2:
// F(2x2) only; 0: the gathered form), also at batch 8 on 2 threads.
// The baseline runs on one thread (OpenBLAS is held at one thread here, as in
// the runtime). Counter GFLOP/s = 2 *
// multiply-adds / real time: on a loaded machine compare the CPU column too
// (on 2 threads, the real time: the CPU column is the calling thread's alone).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "bench/mlp_model.h"
#include "graph/onnx_loader.h"
#include "ops/blas.h"
#include "runtime/session.h"

namespace onnx_mini::bench {
namespace {

struct ConvShape {
  const char* label;
  int64_t in_channels, out_channels, kernel, stride, side, group;
  bool padded = true;  // kernel / 2 on every side, else none
  int64_t pad() const { return padded ? kernel / 2 : 0; }
  int64_t out_side() const { return (side + 2 * pad() - kernel) / stride + 1; }
  int64_t reduction() const { return in_channels / group * kernel * kernel; }
  double flops(int64_t batch) const {
    return 2.0 * static_cast<double>(batch * out_channels * reduction() * out_side() * out_side());
  }
};

const ConvShape kShapes[] = {
    {"1x1 256->64 56", 256, 64, 1, 1, 56, 1},  {"3x3 64->64 56", 64, 64, 3, 1, 56, 1},
    {"3x3/2 128->256 28", 128, 256, 3, 2, 28, 1}, {"dw3x3 144 56", 144, 144, 3, 1, 56, 144},
    {"7x7/2 3->64 224", 3, 64, 7, 2, 224, 1},
    // MobileNetV2: depthwise at every resolution, the expansion and projection 1x1s.
    {"dw3x3 32 112", 32, 32, 3, 1, 112, 32},      {"dw3x3/2 96 112", 96, 96, 3, 2, 112, 96},
    {"dw3x3/2 144 56", 144, 144, 3, 2, 56, 144}, {"dw3x3 576 14", 576, 576, 3, 1, 14, 576},
    {"dw3x3 960 7", 960, 960, 3, 1, 7, 960},      {"1x1 16->96 112", 16, 96, 1, 1, 112, 1},
    {"1x1 24->144 56", 24, 144, 1, 1, 56, 1},     {"1x1 144->24 56", 144, 24, 1, 1, 56, 1},
    {"1x1 32->192 28", 32, 192, 1, 1, 28, 1},     {"1x1 320->1280 7", 320, 1280, 1, 1, 7, 1},
    // SqueezeNet 1.1: a fire module at 55x55 and the unpadded stride-2 stem.
    {"1x1 64->16 55", 64, 16, 1, 1, 55, 1},       {"1x1 16->64 55", 16, 64, 1, 1, 55, 1},
    {"3x3 16->64 55", 16, 64, 3, 1, 55, 1},       {"3x3/2 3->64 224 nopad", 3, 64, 3, 2, 224, 1, false},
    // MobileNetV2's stem.
    {"3x3/2 3->32 224", 3, 32, 3, 2, 224, 1},
    // 1x1 on small images: MobileNetV2 at 7x7 and 14x14, SqueezeNet's classifier
    // at 13x13 and its 1x1s at 27x27; ResNet-18's stride-2 downsamples.
    {"1x1 960->320 7", 960, 320, 1, 1, 7, 1},     {"1x1 160->960 7", 160, 960, 1, 1, 7, 1},
    {"1x1 960->160 7", 960, 160, 1, 1, 7, 1},     {"1x1 96->576 14", 96, 576, 1, 1, 14, 1},
    {"1x1 576->96 14", 576, 96, 1, 1, 14, 1},     {"1x1 384->64 14", 384, 64, 1, 1, 14, 1},
    {"1x1 64->384 14", 64, 384, 1, 1, 14, 1},     {"1x1 512->1000 13", 512, 1000, 1, 1, 13, 1},
    {"1x1 128->32 27", 128, 32, 1, 1, 27, 1},     {"1x1 32->128 27", 32, 128, 1, 1, 27, 1},
    {"1x1/2 64->128 56", 64, 128, 1, 2, 56, 1},   {"1x1/2 128->256 28", 128, 256, 1, 2, 28, 1},
    {"1x1/2 256->512 14", 256, 512, 1, 2, 14, 1},
    // ResNet-18's 3x3s whose weight outweighs an image's input (2.4 and 9.4 MB).
    {"3x3 256->256 14", 256, 256, 3, 1, 14, 1},   {"3x3 512->512 7", 512, 512, 3, 1, 7, 1},
    // MobileNetV2's remaining depthwise shapes.
    {"dw3x3 192 28", 192, 192, 3, 1, 28, 192},    {"dw3x3/2 192 28", 192, 192, 3, 2, 28, 192},
    {"dw3x3 384 14", 384, 384, 3, 1, 14, 384},    {"dw3x3/2 576 14", 576, 576, 3, 2, 14, 576},
    // The other 3x3 stride-1 layers: ResNet-18's 128 at 28x28, SqueezeNet 1.1's
    // other expand3x3 layers.
    {"3x3 128->128 28", 128, 128, 3, 1, 28, 1},   {"3x3 32->128 27", 32, 128, 3, 1, 27, 1},
    {"3x3 48->192 13", 48, 192, 3, 1, 13, 1},     {"3x3 64->256 13", 64, 256, 3, 1, 13, 1},
};
// The first of the small-image 1x1 classes above, which also run on 2 threads
// at batch 1 (where splitting 49..196 pixels over threads is the question).
constexpr int64_t kFirstSmallPointwise = 20;
// The RGB stems (ResNet, SqueezeNet, MobileNetV2), also run on two threads.
constexpr int64_t kStemShapes[] = {4, 18, 19};
constexpr int64_t kShapeCount = static_cast<int64_t>(std::size(kShapes));

void fill(float* x, int64_t count) {
  for (int64_t i = 0; i < count; ++i) x[i] = static_cast<float>(i % 29) * 0.05f - 0.7f;
}

onnx::ModelProto conv_model(const ConvShape& s) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(13);
  onnx::GraphProto& g = *m.mutable_graph();
  uint64_t seed = 1;
  add_weight(g, "W", {s.out_channels, s.in_channels / s.group, s.kernel, s.kernel}, s.reduction(), seed);
  add_weight(g, "B", {s.out_channels}, s.reduction(), seed);
  onnx::NodeProto& n = *g.add_node();
  n.set_op_type("Conv");
  n.set_name("conv");
  for (const char* in : {"X", "W", "B"}) n.add_input(in);
  n.add_output("Y");
  auto ints = [&n](const char* name, std::vector<int64_t> v) {
    onnx::AttributeProto& a = *n.add_attribute();
    a.set_name(name);
    a.set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
  };
  ints("pads", {s.pad(), s.pad(), s.pad(), s.pad()});
  ints("strides", {s.stride, s.stride});
  onnx::AttributeProto& group = *n.add_attribute();
  group.set_name("group");
  group.set_type(onnx::AttributeProto::INT);
  group.set_i(s.group);
  onnx::ValueInfoProto& x = *g.add_input();
  x.set_name("X");
  auto* xt = x.mutable_type()->mutable_tensor_type();
  xt->set_elem_type(onnx::TensorProto::FLOAT);
  xt->mutable_shape()->add_dim()->set_dim_param("N");
  for (int64_t d : {s.in_channels, s.side, s.side}) xt->mutable_shape()->add_dim()->set_dim_value(d);
  g.add_output()->set_name("Y");
  g.mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return m;
}

void ConvRun(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const int64_t batch = state.range(1);
  onnx::ModelProto model = conv_model(s);
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
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {batch, s.in_channels, s.side, s.side})}};
  fill(inputs[0].tensor.data<float>(), inputs[0].tensor.num_elements());
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
  state.counters["GFLOP/s"] = benchmark::Counter(s.flops(batch) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// cols [C/g * k * k, OH * OW] of one image and group, zeros where the window
// leaves the input.
void im2col(const ConvShape& s, const float* x, float* cols) {
  const int64_t out = s.out_side(), channels = s.in_channels / s.group;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t ky = 0; ky < s.kernel; ++ky) {
      for (int64_t kx = 0; kx < s.kernel; ++kx) {
        float* row = cols + ((c * s.kernel + ky) * s.kernel + kx) * out * out;
        for (int64_t oy = 0; oy < out; ++oy) {
          const int64_t iy = oy * s.stride + ky - s.pad();
          for (int64_t ox = 0; ox < out; ++ox) {
            const int64_t ix = ox * s.stride + kx - s.pad();
            const bool inside = iy >= 0 && iy < s.side && ix >= 0 && ix < s.side;
            row[oy * out + ox] = inside ? x[(c * s.side + iy) * s.side + ix] : 0.0f;
          }
        }
      }
    }
  }
}

void Im2colSgemm(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const int64_t batch = state.range(1);
  const int64_t pixels = s.out_side() * s.out_side(), m_group = s.out_channels / s.group;
  std::vector<float> x(static_cast<size_t>(batch * s.in_channels * s.side * s.side));
  std::vector<float> w(static_cast<size_t>(s.out_channels * s.reduction()));
  std::vector<float> cols(static_cast<size_t>(s.reduction() * pixels));
  std::vector<float> y(static_cast<size_t>(batch * s.out_channels * pixels));
  fill(x.data(), static_cast<int64_t>(x.size()));
  fill(w.data(), static_cast<int64_t>(w.size()));
  const int64_t in_group = s.in_channels / s.group * s.side * s.side;
  for (auto _ : state) {
    for (int64_t n = 0; n < batch; ++n) {
      for (int64_t g = 0; g < s.group; ++g) {
        im2col(s, x.data() + (n * s.group + g) * in_group, cols.data());
        blas::sgemm(false, false, m_group, pixels, s.reduction(), 1.0f, w.data() + g * m_group * s.reduction(),
                    s.reduction(), cols.data(), pixels, 0.0f,
                    y.data() + (n * s.out_channels + g * m_group) * pixels, pixels);
      }
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(s.label);
  state.counters["GFLOP/s"] = benchmark::Counter(s.flops(batch) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// The 3x3 stride-1 shapes (Winograd): 64 at 56x56, SqueezeNet's 16 -> 64 at
// 55x55, ResNet-18's 256 and 512, and the last four.
constexpr int64_t kThreeByThreeStrideOne[] = {1, 17, 33, 34, 39, 40, 41, 42};
bool three_by_three_stride_one(int64_t shape) {
  return std::find(std::begin(kThreeByThreeStrideOne), std::end(kThreeByThreeStrideOne), shape) !=
         std::end(kThreeByThreeStrideOne);
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t shape = 0; shape < kShapeCount; ++shape) {
    for (int64_t batch : {1, 8}) b->Args({shape, batch, 1});
    if (shape >= kFirstSmallPointwise || three_by_three_stride_one(shape)) b->Args({shape, 1, 2});
    if (three_by_three_stride_one(shape)) b->Args({shape, 8, 2});
  }
  for (int64_t shape : kStemShapes) {
    for (int64_t batch : {1, 8}) b->Args({shape, batch, 2});
  }
}

BENCHMARK(ConvRun)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(Im2colSgemm)->Apply(shapes)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace onnx_mini::bench

BENCHMARK_MAIN();
