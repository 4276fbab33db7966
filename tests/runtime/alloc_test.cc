// A steady-state Session::run makes no heap allocation.
//
// This binary replaces the global operator new/delete with counting versions
// (and, outside sanitizer builds, interposes aligned_alloc, which tensor
// buffers use), warms a session up, then counts allocations over ten runs.
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "bench/mlp_model.h"
#include "graph/onnx_loader.h"
#include "runtime/session.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/control_flow_models.h"
#include "tests/testutil/graph_builder.h"
#include "tests/testutil/model_builder.h"
#include "tests/testutil/tensors.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocations{0};

void note_allocation() {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
}

void* counted_new(std::size_t n) {
  note_allocation();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}

void* counted_new_aligned(std::size_t n, std::align_val_t al) {
  note_allocation();
  std::size_t a = static_cast<std::size_t>(al);
  std::size_t rounded = ((n ? n : 1) + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_new(n); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try { return counted_new(n); } catch (...) { return nullptr; }
}
void* operator new(std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void* operator new[](std::size_t n, std::align_val_t al) { return counted_new_aligned(n, al); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#if !defined(__SANITIZE_ADDRESS__)
// Tensor buffers come from aligned_alloc, not operator new: count those too by
// interposing glibc's symbol (forwarding to glibc's own allocator, so free() pairs).
extern "C" void* __libc_memalign(std::size_t alignment, std::size_t n);
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t n) {
  note_allocation();
  return __libc_memalign(alignment, n);
}
constexpr bool kCountsAlignedAlloc = true;
#else
constexpr bool kCountsAlignedAlloc = false;
#endif

namespace onnx_mini {
namespace {

using bench::LinearForm;
using bench::MlpSpec;

std::unique_ptr<Session> make_session(const MlpSpec& spec, int opt_level) {
  onnx::ModelProto model = bench::make_mlp(spec);
  auto graph = graph_from_model(model, "");
  EXPECT_TRUE(graph.is_ok()) << graph.status().message();
  SessionOptions so;
  so.opt_level = opt_level;
  so.threads = 1;
  auto session = Session::from_graph(std::move(graph).value(), so);
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  return std::move(session).value();
}

// Allocations made by `runs` calls of Session::run with `inputs` after two
// warm-up runs (which grow the frame's buffers and scratch); `outputs` ends
// with the last run's.
int64_t allocations_after_warm_up(Session& session, const std::vector<NamedTensor>& inputs,
                                  std::vector<Tensor>& outputs, int runs = 10) {
  for (int i = 0; i < 2; ++i) {
    Status st = session.run(inputs, outputs);
    EXPECT_TRUE(st.is_ok()) << st.message();
  }
  g_allocations = 0;
  g_counting = true;
  bool all_ok = true;
  for (int i = 0; i < runs; ++i) all_ok = session.run(inputs, outputs).is_ok() && all_ok;
  g_counting = false;
  EXPECT_TRUE(all_ok);
  return g_allocations.load();
}

// The same for a session built from `graph` on one thread at `opt_level`
// (-1 when the session cannot be built); `kept` receives the last outputs.
int64_t graph_allocations(Graph graph, const std::vector<NamedTensor>& inputs, int opt_level,
                          std::vector<Tensor>* kept = nullptr) {
  SessionOptions so;
  so.opt_level = opt_level;
  so.threads = 1;
  auto session = Session::from_graph(std::move(graph), so);
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  if (!session.is_ok()) return -1;
  std::vector<Tensor> outputs;
  const int64_t count = allocations_after_warm_up(**session, inputs, outputs);
  if (kept) *kept = std::move(outputs);
  return count;
}

// An MLP session fed a [batch, width] input.
int64_t steady_state_allocations(Session& session, int64_t batch, int runs) {
  const int64_t width = session.value(session.input_ids()[0]).info.dims[1].value;
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {batch, width})}};
  float* x = inputs[0].tensor.data<float>();
  for (int64_t i = 0; i < batch * width; ++i) x[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  std::vector<Tensor> outputs;
  const int64_t count = allocations_after_warm_up(session, inputs, outputs, runs);
  EXPECT_EQ(outputs.size(), 1u);
  return count;
}

// The counter itself must see allocations, or a zero below proves nothing.
TEST(SteadyStateAllocations, CounterSeesAllocations) {
  g_allocations = 0;
  g_counting = true;
  auto* v = new std::vector<int>(100);
  Tensor t = Tensor::allocate(DataType::kFloat, {4, 4});
  g_counting = false;
  delete v;
  // vector object + its storage (2), tensor storage via aligned_alloc (1) + its
  // shape and shared_ptr control block (>= 2).
  EXPECT_GE(g_allocations.load(), kCountsAlignedAlloc ? 5 : 4);
}

TEST(SteadyStateAllocations, GemmReluSoftmaxMlp) {
  for (int64_t batch : {1, 16}) {
    MlpSpec spec{{784, 512, 256, 10}, LinearForm::kGemm, /*softmax_head=*/true};
    for (int opt : {0, 1}) {
      auto session = make_session(spec, opt);
      EXPECT_EQ(steady_state_allocations(*session, batch, 10), 0) << "batch " << batch << ", -O" << opt;
    }
  }
}

TEST(SteadyStateAllocations, MatMulAddReluMlp) {
  for (int64_t batch : {1, 16}) {
    MlpSpec spec{{784, 512, 256, 10}, LinearForm::kMatMulAdd, /*softmax_head=*/true};
    for (int opt : {0, 1}) {
      auto session = make_session(spec, opt);
      EXPECT_EQ(steady_state_allocations(*session, batch, 10), 0) << "batch " << batch << ", -O" << opt;
    }
  }
}

// A small CNN with every convolution kernel: a 3x3 stem (gathered implicit
// GEMM), a 1x1 (pointwise GEMM) with a residual Add + Relu, a 3x3 stride 1 on
// 64 channels at 16x16 (Winograd), a 3x3 stride 2, a depthwise 3x3 with ReLU6
// (Clip), and a ConvTranspose. -O1 fuses the
// epilogues; -O0 runs each node alone. Both the AVX-512 kernels and the
// OpenBLAS fallback (ONNX_MINI_PACKED_GEMM=0) take their scratch from buffers
// that only grow.
Graph small_cnn(int64_t batch) {
  using testing::float_attr;
  using testing::int_attr;
  using testing::ints_attr;
  using testing::random_tensor;
  testing::GraphBuilder b(17);
  b.input("X", DataType::kFloat, {batch, 3, 16, 16});
  b.initializer("W1", random_tensor({64, 3, 3, 3}, 1)).initializer("B1", random_tensor({64}, 2));
  b.initializer("W2", random_tensor({64, 64, 1, 1}, 3)).initializer("B2", random_tensor({64}, 4));
  b.initializer("W3", random_tensor({32, 64, 3, 3}, 5));
  b.initializer("W4", random_tensor({32, 1, 3, 3}, 6)).initializer("B4", random_tensor({32}, 7));
  b.initializer("W5", random_tensor({32, 8, 2, 2}, 8));
  b.initializer("W6", random_tensor({64, 64, 3, 3}, 10)).initializer("B6", random_tensor({64}, 11));
  Tensor lo = Tensor::allocate(DataType::kFloat, {}), hi = Tensor::allocate(DataType::kFloat, {});
  lo.data<float>()[0] = 0.0f;
  hi.data<float>()[0] = 6.0f;
  b.initializer("lo", lo).initializer("hi", hi);
  const auto pads1 = ints_attr({1, 1, 1, 1});
  b.node("Conv", {"X", "W1", "B1"}, {"c1"}, {{"pads", pads1}}, "stem");
  b.node("Relu", {"c1"}, {"r1"}, {}, "stem_relu");
  b.node("Conv", {"r1", "W2", "B2"}, {"c2"}, {}, "pointwise");
  b.node("Add", {"c2", "r1"}, {"s2"}, {}, "residual");
  b.node("Relu", {"s2"}, {"r2"}, {}, "residual_relu");
  b.node("Conv", {"r2", "W6", "B6"}, {"c6"}, {{"pads", pads1}}, "winograd");
  b.node("Relu", {"c6"}, {"r6"}, {}, "winograd_relu");
  b.node("Conv", {"r6", "W3"}, {"c3"}, {{"pads", pads1}, {"strides", ints_attr({2, 2})}}, "down");
  b.node("Relu", {"c3"}, {"r3"}, {}, "down_relu");
  b.node("Conv", {"r3", "W4", "B4"}, {"c4"}, {{"pads", pads1}, {"group", int_attr(32)}}, "depthwise");
  b.node("Clip", {"c4", "lo", "hi"}, {"r4"}, {}, "relu6");
  b.node("ConvTranspose", {"r4", "W5"}, {"Y"}, {{"strides", ints_attr({2, 2})}}, "up");
  b.output("Y");
  return b.build();
}

int64_t cnn_steady_state_allocations(int64_t batch, int opt_level) {
  return graph_allocations(small_cnn(batch), {{"X", testing::random_tensor({batch, 3, 16, 16}, 9)}}, opt_level);
}

TEST(SteadyStateAllocations, SmallCnn) {
  for (const char* packed : {"1", "0"}) {
    setenv("ONNX_MINI_PACKED_GEMM", packed, 1);
    for (int64_t batch : {1, 4}) {
      for (int opt : {0, 1}) {
        EXPECT_EQ(cnn_steady_state_allocations(batch, opt), 0)
            << "batch " << batch << ", -O" << opt << ", ONNX_MINI_PACKED_GEMM=" << packed;
      }
    }
    unsetenv("ONNX_MINI_PACKED_GEMM");
  }
}

// A run of several images made image by image (runtime/batch_split.h): the
// frame, the whole outputs and the group status are reused from the warm-up
// on. On one thread, as the tests above: a pool worker's per-thread kernel
// scratch grows the first time timing gives it a kernel's task, which no
// warm-up can promise.
TEST(SteadyStateAllocations, CnnRunImageByImage) {
  for (const char* name : {"small_resnet_bn", "lenet5"}) {
    SessionOptions so;
    so.threads = 1;
    setenv("ONNX_MINI_SPLIT_BATCH", "1", 1);  // the shipped models' images are small
    auto session = Session::load(testing::source_dir() + "/models/cnn/" + name + "/model.onnx", so);
    unsetenv("ONNX_MINI_SPLIT_BATCH");
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    ASSERT_TRUE((*session)->batch_split().per_image) << name << ": " << (*session)->batch_split().why_not;
    const Value& x = (*session)->value((*session)->input_ids()[0]);
    Shape shape{4};
    for (size_t d = 1; d < x.info.dims.size(); ++d) shape.push_back(x.info.dims[d].value);
    std::vector<Tensor> outputs;
    EXPECT_EQ(allocations_after_warm_up(**session, {{x.name, testing::random_tensor(shape, 12)}}, outputs), 0) << name;
  }
}

// Keeping a copy of an output is allowed: that run gets a fresh buffer and the
// kept tensor is not overwritten by the next run.
TEST(SteadyStateAllocations, KeptOutputIsNotOverwritten) {
  MlpSpec spec{{8, 4, 3}, LinearForm::kGemm, /*softmax_head=*/false};
  auto session = make_session(spec, 1);
  std::vector<NamedTensor> inputs{{"X", Tensor::allocate(DataType::kFloat, {1, 8})}};
  std::vector<Tensor> outputs;
  ASSERT_TRUE(session->run(inputs, outputs).is_ok());
  Tensor kept = outputs[0];
  std::vector<float> before(kept.data<float>(), kept.data<float>() + kept.num_elements());
  inputs[0].tensor.data<float>()[0] = 5.0f;
  ASSERT_TRUE(session->run(inputs, outputs).is_ok());
  EXPECT_NE(kept.raw_data(), outputs[0].raw_data());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(kept.data<float>()[i], before[i]);
}

// The recurrent ops' scratch is reused from the first run on, and their output
// shapes are built without a Shape: bidirectional LSTM, GRU (both reset forms)
// and RNN nodes with sequence lengths run allocation-free, weights packed (-O1)
// or read through OpenBLAS (-O0 keeps the initializers).
// (The PyTorch-exported classifiers of models/ allocate in their Shape /
// ConstantOfShape / Reshape chain, outside the recurrent ops.)
Graph recurrent_graph(const std::string& op, int64_t gates, std::map<std::string, Attribute> extra) {
  constexpr int64_t kSeq = 7, kBatch = 4, kInput = 6, kHidden = 8;
  testing::GraphBuilder gb(14);
  gb.input("x", DataType::kFloat, {kSeq, kBatch, kInput}).input("lens", DataType::kInt32, {kBatch});
  gb.initializer("W", testing::random_tensor({2, gates * kHidden, kInput}, 1));
  gb.initializer("R", testing::random_tensor({2, gates * kHidden, kHidden}, 2));
  gb.initializer("B", testing::random_tensor({2, 2 * gates * kHidden}, 3));
  std::vector<std::string> outs = {"Y", "Y_h"};
  if (op == "LSTM") outs.push_back("Y_c");
  extra["direction"] = testing::string_attr("bidirectional");
  extra["hidden_size"] = testing::int_attr(kHidden);
  gb.node(op, {"x", "W", "R", "B", "lens"}, outs, extra);
  for (const auto& o : outs) gb.output(o);
  return gb.build();
}

TEST(SteadyStateAllocations, RecurrentOps) {
  struct Case {
    const char* op;
    int64_t gates;
    std::map<std::string, Attribute> attrs;
  };
  const std::vector<Case> cases = {{"LSTM", 4, {}},
                                   {"GRU", 3, {}},
                                   {"GRU", 3, {{"linear_before_reset", testing::int_attr(1)}}},
                                   {"RNN", 1, {}}};
  for (const Case& c : cases) {
    for (int opt : {0, 1}) {
      std::vector<NamedTensor> inputs{{"x", testing::random_tensor({7, 4, 6}, 4)},
                                      {"lens", Tensor::allocate(DataType::kInt32, {4})}};
      const int32_t lens[] = {7, 3, 0, 5};  // mixed lengths: Y is zeroed past each
      std::copy(lens, lens + 4, inputs[1].tensor.data<int32_t>());
      EXPECT_EQ(graph_allocations(recurrent_graph(c.op, c.gates, c.attrs), inputs, opt), 0) << c.op << ", -O" << opt;
    }
  }
}

// Resize keeps its index/weight tables from the first run of a shape; the
// rearrangement ops move bytes in place of the plan's buffers.
TEST(SteadyStateAllocations, ResizeAndRearrangementOps) {
  for (const char* mode : {"nearest", "linear", "cubic"}) {
    testing::GraphBuilder b(18);
    b.input("X", DataType::kFloat, {2, 4, 6, 5})
        .initializer("scales", testing::make_tensor({4}, {1, 1, 2, 1.6f}))
        .initializer("repeats", testing::ints({1, 1, 1, 2}));
    b.node("Resize", {"X", "", "scales"}, {"r"}, {{"mode", testing::string_attr(mode)}}, "resize");
    b.node("DepthToSpace", {"r"}, {"d"}, {{"blocksize", testing::int_attr(2)}}, "d2s");
    b.node("SpaceToDepth", {"d"}, {"s"}, {{"blocksize", testing::int_attr(2)}}, "s2d");
    b.node("Tile", {"s", "repeats"}, {"Y"}, {}, "tile");
    b.output("Y");
    for (int opt : {0, 1}) {
      std::vector<NamedTensor> inputs{{"X", testing::random_tensor({2, 4, 6, 5}, 9)}};
      EXPECT_EQ(graph_allocations(b.build(), inputs, opt), 0) << mode << ", -O" << opt;
    }
  }
}

// GroupNormalization, LpNormalization and Einsum (a reduce, a contraction with
// one operand copied into order, one used in place) keep everything in the
// plan's buffers and the node's scratch.
TEST(SteadyStateAllocations, NormalizationAndEinsumOps) {
  testing::GraphBuilder b(21);
  b.input("X", DataType::kFloat, {2, 4, 6, 5})
      .initializer("scale", testing::random_tensor({4}, 3))
      .initializer("bias", testing::random_tensor({4}, 4))
      .initializer("W", testing::random_tensor({3, 6, 4}, 5));
  b.node("GroupNormalization", {"X", "scale", "bias"}, {"g"}, {{"num_groups", testing::int_attr(2)}}, "gn");
  b.node("LpNormalization", {"g"}, {"l"}, {{"axis", testing::int_attr(1)}}, "lp");
  b.node("Einsum", {"l", "W"}, {"e"}, {{"equation", testing::string_attr("bchw,ahc->bwa")}}, "contract");
  b.node("Einsum", {"e", "e"}, {"Y"}, {{"equation", testing::string_attr("bwa,bva->bwv")}}, "scores");
  b.output("Y");
  for (int opt : {0, 1}) {
    std::vector<NamedTensor> inputs{{"X", testing::random_tensor({2, 4, 6, 5}, 9)}};
    EXPECT_EQ(graph_allocations(b.build(), inputs, opt), 0) << "-O" << opt;
  }
}

// The index ops: TopK's selection scratch and ScatterND's map of written slices
// come from per-thread scratch, NonZero sizes its output from the data (the
// same data each run, so the same size).
TEST(SteadyStateAllocations, IndexOps) {
  testing::GraphBuilder b(18);
  b.input("X", DataType::kFloat, {8, 50})
      .input("U", DataType::kFloat, {3, 50})
      .initializer("K", testing::ints({5}))
      .initializer("rows", testing::make_tensor<int64_t>({3, 1}, {0, -2, 4}));
  b.node("TopK", {"X", "K"}, {"values", "positions"}, {}, "topk");
  b.node("ScatterElements", {"X", "positions", "values"}, {"se"},
         {{"axis", testing::int_attr(1)}, {"reduction", testing::string_attr("add")}}, "scatter_elements");
  b.node("ScatterND", {"se", "rows", "U"}, {"snd"}, {}, "scatter_nd");
  b.node("GatherND", {"snd", "rows"}, {"g"}, {}, "gather_nd");
  b.node("NonZero", {"g"}, {"nz"}, {}, "nonzero");
  b.output("g").output("nz");
  for (int opt : {0, 1}) {
    std::vector<NamedTensor> inputs{{"X", testing::random_tensor({8, 50}, 3)}, {"U", testing::random_tensor({3, 50}, 4)}};
    std::vector<Tensor> outputs;
    EXPECT_EQ(graph_allocations(b.build(), inputs, opt, &outputs), 0) << "-O" << opt;
    ASSERT_EQ(outputs.size(), 2u);
    EXPECT_EQ(outputs[1].shape(), (Shape{2, 150}));
  }
}

// Loops and Ifs: child frames, the Loop's carried values and scan stacks live
// in frames and scratch that the first runs grew.
int64_t feed_steady_state_allocations(const onnx::ModelProto& model, const std::vector<NamedTensor>& inputs, int opt_level) {
  SessionOptions so;
  so.opt_level = opt_level;
  so.threads = 1;
  auto session = testing::make_session(model, so);
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  if (!session.is_ok()) return -1;
  std::vector<Tensor> outputs;
  return allocations_after_warm_up(**session, inputs, outputs);
}

TEST(SteadyStateAllocations, LoopWithScanOutputsAndNestedIf) {
  using testing::scalar;
  const Tensor x = testing::random_tensor({64}, 11), y0 = testing::random_tensor({64}, 12);
  for (int opt : {0, 1}) {
    EXPECT_EQ(feed_steady_state_allocations(testing::loop_model(),
                                            {{"M", scalar<int64_t>(50)}, {"cond", scalar<bool>(true)}, {"y0", y0},
                                             {"X", x}, {"stop", scalar<int64_t>(1000)}},
                                            opt),
              0)
        << "loop, -O" << opt;
    EXPECT_EQ(feed_steady_state_allocations(testing::nested_model(),
                                            {{"outer", scalar<bool>(true)}, {"M", scalar<int64_t>(9)},
                                             {"k", scalar<int64_t>(4)}, {"X", x}},
                                            opt),
              0)
        << "nested, -O" << opt;
  }
}

}  // namespace
}  // namespace onnx_mini
