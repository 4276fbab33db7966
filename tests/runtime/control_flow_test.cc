// If and Loop run through a session: branch choice, outer-scope values,
// loop-carried values, scan outputs, zero iterations, nesting, -O0 and -O1.
#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "tests/testutil/control_flow_models.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini {
namespace {

using testing::make_session;
using testing::make_tensor;
using testing::scalar;
using testing::values_of;

Tensor floats(const std::vector<float>& v) { return make_tensor<float>({static_cast<int64_t>(v.size())}, v); }

std::unique_ptr<Session> session_of(const onnx::ModelProto& model, int opt_level) {
  SessionOptions o;
  o.opt_level = opt_level;
  o.threads = 1;
  auto s = make_session(model, o);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(s).value() : nullptr;
}

// Every result below is exact: the references do the same float additions and
// multiplications in the same order.
TEST(ControlFlow, IfRunsTheBranchTheConditionNamesWithOuterValues) {
  for (int opt : {0, 1}) {
    auto s = session_of(testing::if_model(), opt);
    ASSERT_TRUE(s);
    for (bool cond : {true, false}) {
      auto out = s->run({{"cond", scalar<bool>(cond)}, {"X", floats({1.5f, -2.0f, 0.25f})}});
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const std::vector<float> want = cond ? std::vector<float>{3.0f, -4.0f, 0.5f} : std::vector<float>{-1.5f, 2.0f, -0.25f};
      EXPECT_EQ(values_of<float>(out.value()[0].tensor), want) << "cond " << cond << ", -O" << opt;
    }
  }
}

TEST(ControlFlow, IfOutputShapeMayDifferPerRun) {
  auto s = session_of(testing::if_model(), 1);
  ASSERT_TRUE(s);
  for (int64_t n : {1, 5, 2}) {
    auto out = s->run({{"cond", scalar<bool>(true)}, {"X", floats(std::vector<float>(static_cast<size_t>(n), 1.0f))}});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(out.value()[0].tensor.shape(), Shape({n}));
  }
}

TEST(ControlFlow, IfConditionWithTwoElementsIsBadInput) {
  auto s = session_of(testing::if_model(), 1);
  ASSERT_TRUE(s);
  // The model declares cond a scalar, so the session refuses the feed first.
  auto out = s->run({{"cond", make_tensor<bool>({2}, {true, false})}, {"X", floats({1.0f})}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
}

void expect_loop(Session& s, int64_t m, bool cond, const std::vector<float>& y0, const std::vector<float>& x, int64_t stop) {
  auto out = s.run({{"M", scalar<int64_t>(m)}, {"cond", scalar<bool>(cond)}, {"y0", floats(y0)}, {"X", floats(x)},
                    {"stop", scalar<int64_t>(stop)}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  testing::LoopReference want = testing::loop_reference(m, cond, y0, x, stop);
  const std::string what = "M " + std::to_string(m) + " cond " + std::to_string(cond) + " stop " + std::to_string(stop);
  EXPECT_EQ(values_of<float>(out.value()[0].tensor), want.y_final) << what;
  const Tensor& squares = out.value()[1].tensor;
  // With no iteration there is nothing to take a row's shape from: its dims
  // come from inference, and the body's scan output is float[N] (symbolic), so 0.
  const int64_t row = want.squares.empty() ? 0 : static_cast<int64_t>(y0.size());
  ASSERT_EQ(squares.shape(), Shape({static_cast<int64_t>(want.squares.size()), row})) << what;
  std::vector<float> flat;
  for (const auto& row : want.squares) flat.insert(flat.end(), row.begin(), row.end());
  EXPECT_EQ(values_of<float>(squares), flat) << what;
}

TEST(ControlFlow, LoopCarriesValuesAndStacksScanOutputs) {
  for (int opt : {0, 1}) {
    auto s = session_of(testing::loop_model(), opt);
    ASSERT_TRUE(s);
    expect_loop(*s, 5, true, {1.0f, 2.0f}, {0.5f, -1.0f}, 100);  // stops at M
    expect_loop(*s, 100, true, {1.0f, 2.0f}, {0.5f, -1.0f}, 3);  // stops when the body's condition turns false
    expect_loop(*s, 40, true, {0.0f, 1.0f, 2.0f}, {1.0f, 1.0f, 1.0f}, 1000);  // the stacks grow past their first buffers
  }
}

TEST(ControlFlow, LoopThatRunsZeroTimesReturnsTheInitialValuesAndEmptyScans) {
  auto s = session_of(testing::loop_model(), 1);
  ASSERT_TRUE(s);
  expect_loop(*s, 0, true, {1.0f, 2.0f}, {0.5f, -1.0f}, 10);   // M = 0
  expect_loop(*s, 10, false, {1.0f, 2.0f}, {0.5f, -1.0f}, 10);  // cond false at the start
  expect_loop(*s, -3, true, {1.0f, 2.0f}, {0.5f, -1.0f}, 10);   // a negative M runs nothing
}

TEST(ControlFlow, NestedIfInsideLoopInsideIfReadsTheMainGraph) {
  for (int opt : {0, 1}) {
    auto s = session_of(testing::nested_model(), opt);
    ASSERT_TRUE(s);
    const std::vector<float> x = {1.0f, -2.0f, 4.0f};
    for (bool outer : {true, false}) {
      for (int64_t m : {0, 1, 6}) {
        auto out = s->run({{"outer", scalar<bool>(outer)}, {"M", scalar<int64_t>(m)}, {"k", scalar<int64_t>(2)}, {"X", floats(x)}});
        ASSERT_TRUE(out.is_ok()) << out.status().message();
        EXPECT_EQ(values_of<float>(out.value()[0].tensor), testing::nested_reference(outer, m, 2, x))
            << "outer " << outer << " M " << m << " -O" << opt;
      }
    }
  }
}

// Range's expanded form: a Loop whose body adds a captured delta, with an
// untyped carried input (its type comes from the initial value).
TEST(ControlFlow, UntypedCarriedInputTakesTheInitialValuesType) {
  testing::ModelBuilder body(11), m(11);
  body.input("i", DataType::kInt64, {}).input("c", DataType::kBool, {});
  body.model().mutable_graph()->add_input()->set_name("prev");  // no type, as Range's expansion writes it
  body.node("Add", {"prev", "delta"}, {"next"}, "step");
  body.node("Identity", {"c"}, {"c_out"}, "same");
  body.node("Identity", {"prev"}, {"value"}, "emit");
  body.output("c_out").output("next").output("value");
  m.input("n", DataType::kInt64, {}).input("start", DataType::kFloat, {}).input("delta", DataType::kFloat, {});
  auto& n = m.node("Loop", {"n", "", "start"}, {"last", "range"}, "range_loop");
  testing::set_graph_attr(n, "body", body.model().graph());
  m.output("range", DataType::kFloat);
  auto s = session_of(m.model(), 1);
  ASSERT_TRUE(s);
  auto out = s->run({{"n", scalar<int64_t>(4)}, {"start", scalar<float>(1.0f)}, {"delta", scalar<float>(0.5f)}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0].tensor), std::vector<float>({1.0f, 1.5f, 2.0f, 2.5f}));
  EXPECT_EQ(out.value()[0].tensor.shape(), Shape({4}));
}

// Feeds for testing::loop_model whose condition never stops it: M alone
// bounds the iterations, each stacking a float[2] scan value.
std::vector<NamedTensor> endless_loop_feeds(int64_t m) {
  return {{"M", scalar<int64_t>(m)}, {"cond", scalar<bool>(true)}, {"y0", floats({0.0f, 0.0f})},
          {"X", floats({1.0f, 1.0f})}, {"stop", scalar<int64_t>(int64_t{1} << 40)}};
}

TEST(ControlFlow, ScanOutputOverTheMemoryLimitIsAResourceLimit) {
  SessionOptions o;
  o.threads = 1;
  o.max_memory_bytes = 4096;
  auto s = make_session(testing::loop_model(), o);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = s.value()->run(endless_loop_feeds(int64_t{1} << 40));
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kResourceLimit) << out.status().message();
  EXPECT_NE(out.status().message().find("accumulate_loop"), std::string::npos) << out.status().message();
}

// A Loop's trip count is data: past the session's max_loop_iterations a run
// stops with a resource-limit error instead of running for as long as M says;
// at the limit it still runs. Each run counts afresh.
TEST(ControlFlow, LoopPastTheIterationLimitIsAResourceLimit) {
  SessionOptions o;
  o.threads = 1;
  o.max_loop_iterations = 100;
  auto s = make_session(testing::loop_model(), o);
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto too_many = s.value()->run(endless_loop_feeds(int64_t{1} << 40));
  ASSERT_FALSE(too_many.is_ok());
  EXPECT_EQ(too_many.status().code(), ErrorCode::kResourceLimit) << too_many.status().message();
  EXPECT_NE(too_many.status().message().find("more than 100 subgraph runs"), std::string::npos)
      << too_many.status().message();
  for (int run = 0; run < 2; ++run) {
    auto at_limit = s.value()->run(endless_loop_feeds(100));
    ASSERT_TRUE(at_limit.is_ok()) << at_limit.status().message();
  }
}

}  // namespace
}  // namespace onnx_mini
