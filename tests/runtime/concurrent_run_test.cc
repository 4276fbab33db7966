// One session run from many threads at once: every output equals the
// single-threaded run's bit for bit (the same kernels on the same inputs, each
// run on an execution frame of its own), frames are pooled, and planned_bytes()
// reports what one run's frame holds. Built into its own binary too, for the
// ThreadSanitizer pass of CI (scripts/ci_tsan.sh).
#include <cstdlib>
#include <barrier>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/execution_frame.h"
#include "runtime/session.h"
#include "tests/testutil/graph_builder.h"
#include "tests/testutil/control_flow_models.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::GraphBuilder;
using testing::int_attr;
using testing::random_tensor;

Dim symbolic(const std::string& name) {
  Dim d;
  d.param = name;
  return d;
}
Dim fixed(int64_t size) {
  Dim d;
  d.value = size;
  return d;
}
SessionOptions with_threads(int threads, int opt_level = 1) {
  SessionOptions o;
  o.threads = threads;
  o.opt_level = opt_level;
  return o;
}

// A small MLP with a symbolic batch: packed GEMMs (constant weights), bias,
// Relu, Softmax; the passes fuse it as they fuse a real model.
Graph mlp() {
  GraphBuilder gb(13);
  gb.input_symbolic("X", {symbolic("N"), fixed(64)});
  gb.initializer("W1", random_tensor({64, 96}, 11)).initializer("B1", random_tensor({96}, 12));
  gb.initializer("W2", random_tensor({96, 10}, 13)).initializer("B2", random_tensor({10}, 14));
  gb.node("Gemm", {"X", "W1", "B1"}, {"H"}, {}, "fc1");
  gb.node("Relu", {"H"}, {"R"}, {}, "relu1");
  gb.node("Gemm", {"R", "W2", "B2"}, {"L"}, {}, "fc2");
  gb.node("Softmax", {"L"}, {"Y"}, {{"axis", int_attr(1)}}, "softmax");
  gb.output("Y");
  return gb.build();
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()) == 0;
}

// A small CNN with each convolution path: a padded 3x3 (gathered implicit
// GEMM, thread-local padded copy), a 1x1 with a residual Add, a 3x3 stride 2,
// a depthwise 3x3 and a ConvTranspose; the batch is symbolic.
Graph small_cnn() {
  using testing::ints_attr;
  GraphBuilder b(17);
  b.input_symbolic("X", {symbolic("N"), fixed(3), fixed(12), fixed(12)});
  b.initializer("W1", random_tensor({16, 3, 3, 3}, 1)).initializer("B1", random_tensor({16}, 2));
  b.initializer("W2", random_tensor({16, 16, 1, 1}, 3)).initializer("B2", random_tensor({16}, 4));
  b.initializer("W3", random_tensor({32, 16, 3, 3}, 5));
  b.initializer("W4", random_tensor({32, 1, 3, 3}, 6)).initializer("B4", random_tensor({32}, 7));
  b.initializer("W5", random_tensor({32, 8, 2, 2}, 8));
  const auto pads1 = ints_attr({1, 1, 1, 1});
  b.node("Conv", {"X", "W1", "B1"}, {"c1"}, {{"pads", pads1}}, "stem");
  b.node("Relu", {"c1"}, {"r1"}, {}, "stem_relu");
  b.node("Conv", {"r1", "W2", "B2"}, {"c2"}, {}, "pointwise");
  b.node("Add", {"c2", "r1"}, {"s2"}, {}, "residual");
  b.node("Conv", {"s2", "W3"}, {"c3"}, {{"pads", pads1}, {"strides", ints_attr({2, 2})}}, "down");
  b.node("Conv", {"c3", "W4", "B4"}, {"c4"}, {{"pads", pads1}, {"group", int_attr(32)}}, "depthwise");
  b.node("ConvTranspose", {"c4", "W5"}, {"Y"}, {{"strides", ints_attr({2, 2})}}, "up");
  b.output("Y");
  return b.build();
}

// Runs `s` from feeds.size() threads at once, `runs` times each, every thread
// with its own feed, and checks every output against the single-threaded run
// of the same feed, bit for bit: the same kernels on the same data must give
// the same bits whatever else runs beside them.
// frames_per_run: frames one run may hold at once (a run split image by image
// takes one per thread of the session, runtime/batch_split.h).
void expect_concurrent_runs_match(Session& s, const std::vector<std::vector<NamedTensor>>& feeds, int runs,
                                  int frames_per_run = 1) {
  const size_t n = feeds.size();
  std::vector<std::vector<Tensor>> expected(n);
  for (size_t t = 0; t < n; ++t) {
    auto out = s.run(feeds[t]);
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    for (const NamedTensor& o : out.value()) expected[t].push_back(o.tensor.clone());
  }
  std::vector<int> mismatches(n, 0);
  std::vector<std::string> errors(n);
  std::barrier start(static_cast<std::ptrdiff_t>(n));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Tensor> outputs;
      start.arrive_and_wait();
      for (int r = 0; r < runs; ++r) {
        Status st = s.run(feeds[t], outputs);
        if (!st.is_ok()) {
          errors[t] = st.message();
          return;
        }
        for (size_t o = 0; o < outputs.size(); ++o) mismatches[t] += bitwise_equal(outputs[o], expected[t][o]) ? 0 : 1;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < n; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_EQ(mismatches[t], 0) << "thread " << t << " (feed shape " << shape_to_string(feeds[t][0].tensor.shape()) << ")";
  }
  EXPECT_GE(s.num_frames(), 1);
  EXPECT_LE(s.num_frames(), frames_per_run * static_cast<int>(n)) << frames_per_run << " frames per run at once, at most";
}

constexpr int kThreads = 8;

TEST(ConcurrentRun, EightThreadsGetTheSingleThreadedResults) {
  auto session = Session::from_graph(mlp(), with_threads(2));
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  const int64_t batches[kThreads] = {1, 3, 8, 1, 17, 2, 33, 5};
  std::vector<std::vector<NamedTensor>> feeds(kThreads);
  for (int t = 0; t < kThreads; ++t) feeds[t] = {{"X", random_tensor({batches[t], 64}, 100 + static_cast<uint64_t>(t))}};
  expect_concurrent_runs_match(**session, feeds, 200);
}

// Convolution kernels keep their padded copies and column buffers per thread:
// concurrent runs must not see each other's.
TEST(ConcurrentRun, ConvolutionsFromEightThreads) {
  for (int opt : {0, 1}) {
    auto session = Session::from_graph(small_cnn(), with_threads(2, opt));
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    const int64_t batches[kThreads] = {1, 2, 4, 1, 3, 2, 5, 1};
    std::vector<std::vector<NamedTensor>> feeds(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      feeds[t] = {{"X", random_tensor({batches[t], 3, 12, 12}, 200 + static_cast<uint64_t>(t))}};
    }
    SCOPED_TRACE("-O" + std::to_string(opt));
    expect_concurrent_runs_match(**session, feeds, 15);
  }
}

// A PyTorch CNN whose runs of several images go image by image, each run's
// images split over the session's 2 threads: concurrent split runs share the
// pool (one holds it, the others run their images inline) and the frames.
TEST(ConcurrentRun, ImageByImageRunsFromEightThreads) {
  setenv("ONNX_MINI_SPLIT_BATCH", "1", 1);  // its 16x16 images are under the default bound
  auto session = Session::load(testing::source_dir() + "/models/cnn/small_resnet_bn/model.onnx", with_threads(2));
  unsetenv("ONNX_MINI_SPLIT_BATCH");
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  ASSERT_TRUE((*session)->batch_split().per_image) << (*session)->batch_split().why_not;
  const int64_t batches[kThreads] = {1, 2, 4, 1, 3, 2, 5, 1};
  std::vector<std::vector<NamedTensor>> feeds(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    feeds[t] = {{"input", random_tensor({batches[t], 3, 16, 16}, 400 + static_cast<uint64_t>(t))}};
  }
  expect_concurrent_runs_match(**session, feeds, 15, /*frames_per_run=*/2);
}

// The shipped PyTorch LSTM classifier (recurrent scratch is per thread), with a
// different batch and sequence length per thread.
TEST(ConcurrentRun, LstmModelFromEightThreads) {
  auto session = Session::load(testing::source_dir() + "/models/lstm_classifier/model.onnx", with_threads(2));
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  const int64_t batches[kThreads] = {1, 2, 3, 1, 4, 2, 1, 5};
  const int64_t lengths[kThreads] = {5, 3, 9, 1, 4, 7, 12, 2};
  std::vector<std::vector<NamedTensor>> feeds(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    feeds[t] = {{"x", random_tensor({batches[t], lengths[t], 6}, 300 + static_cast<uint64_t>(t))}};
  }
  expect_concurrent_runs_match(**session, feeds, 20);
}

TEST(ConcurrentRun, SequentialRunsReuseOneFrame) {
  auto session = Session::from_graph(mlp(), with_threads(1));
  ASSERT_TRUE(session.is_ok());
  std::vector<NamedTensor> feeds = {{"X", random_tensor({4, 64}, 1)}};
  std::vector<Tensor> outputs;
  for (int r = 0; r < 5; ++r) ASSERT_TRUE((*session)->run(feeds, outputs).is_ok());
  EXPECT_EQ((*session)->num_frames(), 1);
}

TEST(ConcurrentRun, AnOutputKeptByTheCallerIsNotOverwrittenByALaterRun) {
  auto session = Session::from_graph(mlp(), with_threads(1));
  ASSERT_TRUE(session.is_ok());
  auto first = (*session)->run({{"X", random_tensor({2, 64}, 1)}});
  ASSERT_TRUE(first.is_ok());
  const Tensor kept = first.value()[0].tensor.clone();
  auto second = (*session)->run({{"X", random_tensor({2, 64}, 2)}});
  ASSERT_TRUE(second.is_ok());
  EXPECT_TRUE(bitwise_equal(first.value()[0].tensor, kept));
  EXPECT_FALSE(bitwise_equal(second.value()[0].tensor, kept));
}

// A chain of four Relus over n floats: the plan gives x->a->b->c->d three
// buffers (b reuses nothing, c reuses a's, d is a graph output of its own).
// After a run a, b and c move to the frame's block: two values' room, each
// rounded up to whole cache lines (4000 bytes take 4032), which replaces
// their two slots.
TEST(PlannedBytes, IsWhatOneRunsBuffersHold) {
  GraphBuilder gb(13);
  gb.input_symbolic("x", {symbolic("n")});
  gb.node("Relu", {"x"}, {"a"});
  gb.node("Relu", {"a"}, {"b"});
  gb.node("Relu", {"b"}, {"c"});
  gb.node("Relu", {"c"}, {"d"});
  gb.output("d");
  auto session = Session::from_graph(gb.build(), with_threads(1, 0));
  ASSERT_TRUE(session.is_ok());
  EXPECT_EQ((*session)->planned_bytes(), 0) << "no run yet: nothing reserved";
  ASSERT_TRUE((*session)->run({{"x", random_tensor({1000}, 1)}}).is_ok());
  EXPECT_EQ((*session)->planned_bytes(), 2 * 4032 + 4000);
  ASSERT_TRUE((*session)->run({{"x", random_tensor({10}, 1)}}).is_ok());
  EXPECT_EQ((*session)->planned_bytes(), 2 * 4032 + 4000) << "buffers keep their largest size";
  ASSERT_TRUE((*session)->run({{"x", random_tensor({2000}, 1)}}).is_ok());
  EXPECT_EQ((*session)->planned_bytes(), 3 * 2000 * 4);
}

// A kernel that asks for per-run scratch and writes its output from it.
class ScratchCopy final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * tmp, ctx.scratch(0, x.shape(), DataType::kFloat));
    std::memcpy(tmp->raw_data(), x.raw_data(), x.byte_size());
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    std::memcpy(y->raw_data(), tmp->raw_data(), x.byte_size());
    return Status::ok();
  }
};

// A one-node graph x -> y of n floats, and a program that runs `kernel` for
// its node (the graph stands in for whatever the kernel computes).
Graph one_node_graph(int64_t n) {
  GraphBuilder gb(13);
  gb.input("x", DataType::kFloat, {n});
  gb.node("Relu", {"x"}, {"y"}, {}, "copy");
  gb.output("y");
  return gb.build();
}

ExecutionSteps one_step_program(const Graph& g, std::unique_ptr<Kernel> kernel) {
  ExecutionSteps program;
  program.graph = &g;
  program.plan = make_plan(g, g.topological_order().value());
  program.steps.push_back({program.plan.order[0], std::move(kernel), {}});
  program.max_memory_bytes = 1 << 20;
  return program;
}

TEST(ExecutionFrame, ScratchIsPerFrameAndCountedInItsBytes) {
  Graph g = one_node_graph(256);
  ExecutionSteps program = one_step_program(g, std::make_unique<ScratchCopy>());
  ExecutionFrame a(program), b(program);
  Tensor xa = random_tensor({256}, 1), xb = random_tensor({256}, 2);
  a.value(g.find_value("x")) = xa;
  b.value(g.find_value("x")) = xb;
  ASSERT_TRUE(a.run(nullptr).is_ok());
  ASSERT_TRUE(b.run(nullptr).is_ok());
  EXPECT_TRUE(bitwise_equal(a.value(g.find_value("y")), xa));
  EXPECT_TRUE(bitwise_equal(b.value(g.find_value("y")), xb));
  EXPECT_EQ(a.reserved_bytes(), 2 * 256 * 4) << "the output's buffer and the scratch";

  // Room for one of the two: the scratch (asked first) fits, the output does not.
  program.max_memory_bytes = 256 * 4 + 100;
  ExecutionFrame c(program);
  c.value(g.find_value("x")) = xa;
  Status st = c.run(nullptr);
  EXPECT_EQ(st.code(), ErrorCode::kResourceLimit);
  EXPECT_NE(st.message().find("output 'y'"), std::string::npos) << st.message();
}

// A kernel that takes scratch 0, then asks for 40 more scratch tensors, and
// only then writes through the first pointer.
class ScratchHeldAcrossRequests final : public Kernel {
 public:
  Status run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    OM_ASSIGN_OR_RETURN(Tensor * first, ctx.scratch(0, x.shape(), DataType::kFloat));
    for (int i = 1; i <= 40; ++i) OM_RETURN_IF_ERROR(ctx.scratch(i, x.shape(), DataType::kFloat).status());
    std::memcpy(first->raw_data(), x.raw_data(), x.byte_size());
    OM_ASSIGN_OR_RETURN(Tensor * y, ctx.output(0, x.shape(), DataType::kFloat));
    std::memcpy(y->raw_data(), first->raw_data(), x.byte_size());
    return Status::ok();
  }
};

// Asking for scratch i must not move the tensors handed out for lower indices
// (a kernel keeps them for the whole run). ASan reports the use after free if
// it did; without it, the output would come from a stale tensor.
TEST(ExecutionFrame, ScratchPointersStayValidWhileMoreAreAskedFor) {
  Graph g = one_node_graph(64);
  ExecutionSteps program = one_step_program(g, std::make_unique<ScratchHeldAcrossRequests>());
  ExecutionFrame frame(program);
  const Tensor x = random_tensor({64}, 5);
  frame.value(g.find_value("x")) = x;
  for (int run = 0; run < 2; ++run) {
    ASSERT_TRUE(frame.run(nullptr).is_ok());
    EXPECT_TRUE(bitwise_equal(frame.value(g.find_value("y")), x)) << "run " << run;
  }
}

TEST(KernelContext, ScratchOutsideASessionIsAnError) {
  class Bare final : public KernelContext {
   public:
    int num_inputs() const override { return 0; }
    const Tensor* input(int) const override { return nullptr; }
    int num_outputs() const override { return 0; }
    bool output_wanted(int) const override { return false; }
    Result<Tensor*> output(int, const Shape&, DataType) override { return internal_error("none"); }
    const std::string& node_name() const override { return name_; }

   private:
    std::string name_ = "n";
  } ctx;
  const int64_t dims[] = {4};
  EXPECT_FALSE(ctx.scratch(0, dims, DataType::kFloat).is_ok());
}

// If and Loop: each run's subgraphs run on child frames of that run's frame,
// so eight runs of an If inside a Loop inside an If never share a buffer.
TEST(ConcurrentRun, NestedControlFlowFromEightThreads) {
  auto session = testing::make_session(testing::nested_model(), with_threads(2));
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  std::vector<std::vector<NamedTensor>> feeds(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    feeds[t] = {{"X", random_tensor({1 + t % 4 * 7}, 300 + static_cast<uint64_t>(t))},
                {"outer", testing::scalar<bool>(t % 3 != 0)},
                {"M", testing::scalar<int64_t>(t * 3)},
                {"k", testing::scalar<int64_t>(t)}};
  }
  expect_concurrent_runs_match(**session, feeds, 100);
}

}  // namespace
}  // namespace onnx_mini
