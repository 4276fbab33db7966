// The frame's block (runtime/execution_frame.h, runtime/block_offsets.h):
// after the first run its values sit at first-fit offsets of one block, which
// replaces their slots; larger shapes fall back to slots and grow the block;
// the block never takes the frame past its memory limit.
#include "runtime/execution_frame.h"

#include <gtest/gtest.h>

#include <map>

#include "runtime/compile_steps.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/graph_builder.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini {
namespace {

using testing::GraphBuilder;
using testing::random_tensor;

// Records where each node's first output was written.
class OutputAddresses : public RunObserver {
 public:
  void after_node(const Node& node, const std::vector<const Tensor*>& outputs, double) override {
    if (!outputs.empty() && outputs[0]) at[node.name] = static_cast<const uint8_t*>(outputs[0]->raw_data());
  }
  std::map<std::string, const uint8_t*> at;
};

// Records the frame's reserved bytes after each node.
class ReservedBytes : public RunObserver {
 public:
  explicit ReservedBytes(const ExecutionFrame& frame) : frame_(frame) {}
  void after_node(const Node& node, const std::vector<const Tensor*>&, double) override {
    at[node.name] = frame_.reserved_bytes();
  }
  std::map<std::string, int64_t> at;

 private:
  const ExecutionFrame& frame_;
};

// x -> r0 -> r1 -> r2 -> r3 (output), all Relu.
Graph relu_chain() {
  GraphBuilder gb(13);
  Dim n;
  n.param = "n";
  gb.input_symbolic("x", {n});
  std::string prev = "x";
  for (int i = 0; i < 4; ++i) {
    const std::string out = "r" + std::to_string(i);
    gb.node("Relu", {prev}, {out}, {}, out);
    prev = out;
  }
  gb.output(prev);
  return gb.build();
}

struct Compiled {
  explicit Compiled(Graph graph, int64_t max_memory = int64_t{1} << 30) : g(std::move(graph)) {
    Result<PreparedWeightStats> done = compile_steps(g, steps, {.max_memory_bytes = max_memory});
    EXPECT_TRUE(done.is_ok()) << done.status().message();
  }
  Graph g;
  ExecutionSteps steps;
};

// Runs `frame` on x; checks the output is Relu(x) bit for bit.
Status run_relu_chain(const Graph& g, ExecutionFrame& frame, const Tensor& x, RunObserver* where = nullptr) {
  frame.value(g.find_value("x")) = x;
  Status st = frame.run(where);
  if (!st.is_ok()) return st;
  const Tensor& y = frame.value(g.find_value("r3"));
  EXPECT_EQ(y.num_elements(), x.num_elements());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    EXPECT_EQ(y.data<float>()[i], std::max(x.data<float>()[i], 0.f)) << i;
  }
  return st;
}

TEST(ExecutionFrameBlock, AfterTheFirstRunIntermediatesSitAtFirstFitOffsetsOfOneBlock) {
  Compiled c(relu_chain());
  ExecutionFrame frame(c.steps);
  const Tensor x = random_tensor({100}, 1, -1.f, 1.f);  // 400 bytes: 448 in the block
  EXPECT_EQ(frame.block_bytes(), 0);
  ASSERT_TRUE(run_relu_chain(c.g, frame, x).is_ok());
  // r0 and r1 are live together, r2 takes r0's place: two values' room.
  EXPECT_EQ(frame.block_bytes(), 2 * 448);
  EXPECT_EQ(frame.reserved_bytes(), 2 * 448 + 400) << "the block replaced r0..r2's two slots; r3 has its own";
  for (int run = 0; run < 2; ++run) {
    OutputAddresses where;
    ASSERT_TRUE(run_relu_chain(c.g, frame, x, &where).is_ok());
    EXPECT_EQ(where.at["r1"], where.at["r0"] + 448);
    EXPECT_EQ(where.at["r2"], where.at["r0"]) << "r0 is dead once r1 is made";
    EXPECT_EQ(reinterpret_cast<uintptr_t>(where.at["r0"]) % 64, 0u);
    EXPECT_EQ(frame.block_bytes(), 2 * 448);
  }
}

TEST(ExecutionFrameBlock, LargerShapesLaterTakeSlotsOnceAndThenGrowTheBlock) {
  Compiled c(relu_chain());
  ExecutionFrame frame(c.steps);
  ASSERT_TRUE(run_relu_chain(c.g, frame, random_tensor({100}, 2, -1.f, 1.f)).is_ok());
  ASSERT_EQ(frame.block_bytes(), 896);
  // 1200 bytes each (1216 in the block): r0 does not fit in 896 and takes its
  // slot, r1 after it too; r2 at offset 0 neither, it reuses r0's slot. Each
  // slot grows beside the block (and r3's own from 400 bytes); the block grows
  // after the run and the two slots are freed.
  ReservedBytes reserved(frame);
  ASSERT_TRUE(run_relu_chain(c.g, frame, random_tensor({300}, 3, -1.f, 1.f), &reserved).is_ok());
  EXPECT_EQ(reserved.at["r0"], 896 + 400 + 1200);
  EXPECT_EQ(reserved.at["r1"], 896 + 400 + 2 * 1200);
  EXPECT_EQ(reserved.at["r2"], 896 + 400 + 2 * 1200);
  EXPECT_EQ(reserved.at["r3"], 896 + 3 * 1200);
  EXPECT_EQ(frame.block_bytes(), 2 * 1216);
  EXPECT_EQ(frame.reserved_bytes(), 2 * 1216 + 1200);
  OutputAddresses where;
  ASSERT_TRUE(run_relu_chain(c.g, frame, random_tensor({300}, 4, -1.f, 1.f), &where).is_ok());
  EXPECT_EQ(where.at["r1"], where.at["r0"] + 1216);
  // Smaller again: the block holds them, it does not shrink.
  where.at.clear();
  ASSERT_TRUE(run_relu_chain(c.g, frame, random_tensor({7}, 5, -1.f, 1.f), &where).is_ok());
  EXPECT_EQ(where.at["r1"], where.at["r0"] + 64);
  EXPECT_EQ(frame.block_bytes(), 2 * 1216);
  EXPECT_EQ(frame.reserved_bytes(), 2 * 1216 + 1200);
}

// 16 floats a value (64 bytes) then 48 (192 bytes), under a limit of 576
// bytes: what the slots alone need for 48 (r0 and r2 share one, r1, r3).
TEST(ExecutionFrameBlock, ARunOverTheLimitGivesTheBlockUpSoTheNextFitsInTheSlotsAlone) {
  Compiled c(relu_chain(), 576);
  ExecutionFrame frame(c.steps);
  ASSERT_TRUE(run_relu_chain(c.g, frame, random_tensor({16}, 6, -1.f, 1.f)).is_ok());
  ASSERT_EQ(frame.block_bytes(), 128);
  // The block (128) plus r0's and r1's slots (192 each) plus r3's (192): 704.
  const Tensor big = random_tensor({48}, 7, -1.f, 1.f);
  Status st = run_relu_chain(c.g, frame, big);
  EXPECT_EQ(st.code(), ErrorCode::kResourceLimit) << st.message();
  EXPECT_NE(st.message().find("output 'r3'"), std::string::npos) << st.message();
  EXPECT_EQ(frame.block_bytes(), 0);
  ASSERT_TRUE(run_relu_chain(c.g, frame, big).is_ok());
  // The block for 48 (2 x 192) replaces the two slots: 576 again.
  EXPECT_EQ(frame.block_bytes(), 384);
  EXPECT_EQ(frame.reserved_bytes(), 576);
  OutputAddresses where;
  ASSERT_TRUE(run_relu_chain(c.g, frame, big, &where).is_ok());
  EXPECT_EQ(where.at["r2"], where.at["r0"]);
}

// x [64] -> a = Relu(x) -> b = ReduceMax(a) [1] -> c = Expand(b, [128]) ->
// y = Relu(c). First fit puts c after b (a's 256 bytes are too few): the block
// needs 256 + 64 + 512 = 832 bytes where the slots need 512 (a, then c) + 64.
Graph gap_too_small() {
  GraphBuilder gb(13);
  gb.input("x", DataType::kFloat, {64});
  gb.initializer("shape", testing::ints({128}));
  gb.node("Relu", {"x"}, {"a"}, {}, "a");
  gb.node("ReduceMax", {"a"}, {"b"}, {{"axes", testing::ints_attr({0})}, {"keepdims", testing::int_attr(1)}}, "b");
  gb.node("Expand", {"b", "shape"}, {"c"}, {}, "c");
  gb.node("Relu", {"c"}, {"y"}, {}, "y");
  gb.output("y");
  return gb.build();
}

TEST(ExecutionFrameBlock, ABlockThatWouldPassTheLimitIsNotTaken) {
  const Tensor x = random_tensor({64}, 8, -1.f, 1.f);
  float top = x.data<float>()[0];
  for (int64_t i = 0; i < 64; ++i) top = std::max(top, x.data<float>()[i]);
  for (const int64_t limit : {int64_t{512 + 64 + 512}, int64_t{832 + 512}}) {
    Compiled c(gap_too_small(), limit);
    ExecutionFrame frame(c.steps);
    for (int run = 0; run < 3; ++run) {
      frame.value(c.g.find_value("x")) = x;
      ASSERT_TRUE(frame.run(nullptr).is_ok()) << "limit " << limit << " run " << run;
      const Tensor& y = frame.value(c.g.find_value("y"));
      ASSERT_EQ(y.num_elements(), 128);
      for (int64_t i = 0; i < 128; ++i) ASSERT_EQ(y.data<float>()[i], std::max(top, 0.f));
      EXPECT_EQ(frame.block_bytes(), limit == 1088 ? 0 : 832) << "limit " << limit;
      EXPECT_LE(frame.reserved_bytes(), limit);
    }
  }
}

}  // namespace
}  // namespace onnx_mini
