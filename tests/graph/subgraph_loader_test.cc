// Loading subgraph attributes: lexical scoping of outer values, the checks on
// If/Loop signatures, the nesting limit, refused types, and writing subgraphs back.
#include <pthread.h>

#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "graph/onnx_writer.h"
#include "tests/testutil/control_flow_models.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;
using testing::set_graph_attr;

Result<Graph> load(onnx::ModelProto model) { return graph_from_model(model, ""); }

void expect_error(const onnx::ModelProto& model, ErrorCode code, const std::vector<std::string>& fragments) {
  auto g = load(model);
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), code) << g.status().message();
  for (const std::string& f : fragments) EXPECT_NE(g.status().message().find(f), std::string::npos) << g.status().message();
}

onnx::GraphProto branch(const std::string& out, const std::string& op = "Identity", const std::string& in = "X") {
  ModelBuilder b(13);
  b.node(op, {in}, {out}, out + "_node");
  b.output(out, DataType::kFloat);
  return b.model().graph();
}

// An If over X with the given branches (absent when null).
onnx::ModelProto if_with(const onnx::GraphProto* then_g, const onnx::GraphProto* else_g, int outputs = 1,
                         DataType cond_type = DataType::kBool) {
  ModelBuilder m(13);
  m.input("cond", cond_type, {}).input("X", DataType::kFloat, {3});
  std::vector<std::string> outs;
  for (int i = 0; i < outputs; ++i) outs.push_back("Y" + std::to_string(i));
  auto& n = m.node("If", {"cond"}, outs, "the_if");
  if (then_g) set_graph_attr(n, "then_branch", *then_g);
  if (else_g) set_graph_attr(n, "else_branch", *else_g);
  for (const auto& o : outs) m.output(o);
  return m.model();
}

TEST(SubgraphLoader, OuterValuesBecomeImplicitInputs) {
  auto g = load(testing::if_model());
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  const Node& n = g->node(0);
  ASSERT_EQ(n.subgraphs.size(), 2u);
  // Each branch captures X once, so the node reads it twice, implicitly.
  ASSERT_EQ(n.implicit_inputs.size(), 2u);
  EXPECT_EQ(g->value(n.implicit_inputs[0]).name, "X");
  EXPECT_EQ(g->value(g->find_value("X")).consumers.size(), 2u);
  const Graph& then_g = *n.subgraphs[0].graph;
  ASSERT_EQ(then_g.captured().size(), 1u);
  EXPECT_TRUE(then_g.value(then_g.captured()[0]).is_captured);
  // Inference typed the branch from the outer value and the node from the branches.
  EXPECT_EQ(g->value(n.outputs[0]).info.dtype, DataType::kFloat);
  EXPECT_TRUE(verify_graph(*g).is_ok());
}

TEST(SubgraphLoader, NestedCaptureThreadsThroughEveryLevel) {
  auto g = load(testing::nested_model());
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  const Node& outer = g->node(0);
  const Graph& then_g = *outer.subgraphs[0].graph;
  // The then-branch reads M and X itself and k for the body inside it.
  std::vector<std::string> names;
  for (ValueId v : then_g.captured()) names.push_back(then_g.value(v).name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"M", "X", "k"}));
}

TEST(SubgraphLoader, UndefinedNameNamesTheNodeAndAttributePath) {
  onnx::GraphProto bad = branch("t", "Identity", "nowhere");
  onnx::GraphProto ok = branch("e");
  expect_error(if_with(&bad, &ok), ErrorCode::kInvalidModel, {"'the_if'", "'then_branch'", "'nowhere'", "not defined"});
}

TEST(SubgraphLoader, MissingBranchIsInvalid) {
  onnx::GraphProto ok = branch("t");
  expect_error(if_with(&ok, nullptr), ErrorCode::kInvalidModel, {"'the_if'", "else_branch"});
}

TEST(SubgraphLoader, BranchOutputCountMustMatchTheNode) {
  onnx::GraphProto t = branch("t"), e = branch("e");
  expect_error(if_with(&t, &e, 2), ErrorCode::kInvalidModel, {"'the_if'", "1 outputs, the node 2"});
}

TEST(SubgraphLoader, BranchesMustAgreeOnDtype) {
  onnx::GraphProto t = branch("t");
  ModelBuilder e(13);
  e.node("Cast", {"X"}, {"ei"}, "to_int").mutable_attribute()->Add()->CopyFrom([] {
    onnx::AttributeProto a;
    a.set_name("to");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(7);
    return a;
  }());
  e.output("ei");
  expect_error(if_with(&t, &e.model().graph()), ErrorCode::kInvalidModel, {"'the_if'", "float", "int64"});
}

TEST(SubgraphLoader, ConditionOfWrongTypeIsInvalid) {
  onnx::GraphProto t = branch("t"), e = branch("e");
  expect_error(if_with(&t, &e, 1, DataType::kFloat), ErrorCode::kInvalidModel, {"'the_if'", "cond must be bool"});
}

TEST(SubgraphLoader, LoopBodyWithWrongInputCountIsInvalid) {
  ModelBuilder body(13), m(13);
  body.input("i", DataType::kInt64, {}).input("c", DataType::kBool, {});  // the carried value's input is missing
  body.node("Identity", {"c"}, {"c_out"}, "same");
  body.node("Identity", {"X"}, {"y_out"}, "y");
  body.output("c_out").output("y_out");
  m.input("X", DataType::kFloat, {3});
  auto& n = m.node("Loop", {"", "", "X"}, {"Y"}, "the_loop");
  set_graph_attr(n, "body", body.model().graph());
  m.output("Y");
  expect_error(m.model(), ErrorCode::kInvalidModel, {"'the_loop'", "'body'", "2 inputs, expected 3"});
}

TEST(SubgraphLoader, SequenceTypedSubgraphInputIsUnsupported) {
  ModelBuilder body(13), m(13);
  body.input("i", DataType::kInt64, {}).input("c", DataType::kBool, {});
  auto* seq = body.model().mutable_graph()->add_input();
  seq->set_name("s");
  seq->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  body.node("Identity", {"c"}, {"c_out"}, "same");
  body.output("c_out").output("s");
  m.input("X", DataType::kFloat, {3});
  auto& n = m.node("Loop", {"", "", "X"}, {"Y"}, "the_loop");
  set_graph_attr(n, "body", body.model().graph());
  m.output("Y");
  expect_error(m.model(), ErrorCode::kUnsupported, {"'the_loop'", "'body'", "only tensor types"});
}

// If nested `depth` levels deep through then_branch (else_branch is flat).
onnx::ModelProto nested_ifs(int depth) {
  onnx::GraphProto inner = branch("leaf");
  for (int level = depth - 1; level >= 0; --level) {
    ModelBuilder g(13);
    if (level == 0) g.input("cond", DataType::kBool, {}).input("X", DataType::kFloat, {3});
    const std::string out = "y" + std::to_string(level);
    auto& n = g.node("If", {"cond"}, {out}, "if_" + std::to_string(level));
    set_graph_attr(n, "then_branch", inner);
    set_graph_attr(n, "else_branch", branch("flat" + std::to_string(level)));
    g.output(out, level == 0 ? DataType::kFloat : DataType::kUndefined);
    if (level == 0) return g.model();
    inner = g.model().graph();
  }
  return {};
}

TEST(SubgraphLoader, NestingUpToTheLimitLoadsAndRuns) {
  auto s = testing::make_session(nested_ifs(kMaxSubgraphDepth));
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = s.value()->run({{"cond", testing::scalar<bool>(true)}, {"X", testing::make_tensor<float>({3}, {1, 2, 3})}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(testing::values_of<float>(out.value()[0].tensor), std::vector<float>({1, 2, 3}));
}

TEST(SubgraphLoader, NestingPastTheLimitIsInvalid) {
  expect_error(nested_ifs(kMaxSubgraphDepth + 1), ErrorCode::kInvalidModel,
               {"nest more than " + std::to_string(kMaxSubgraphDepth), "'if_0'", "'if_31'"});
}

// 100,000 Ifs nested in a file (100,001 graphs with the main one): libprotobuf refuses to parse past 100 nested
// messages, and onnx-mini explains why, with a stack that does not grow with
// the nesting (a 512 KiB thread, as tests/tools/onnx_init's NamePattern test).
std::string deep_if_bytes(int depth) {
  // Built as bytes from the inside out: a protobuf object this deep could not
  // even be destroyed on a small stack. Fields: GraphProto.node = 1,
  // NodeProto.op_type = 4, NodeProto.attribute = 5, AttributeProto.name = 1,
  // .g = 6, .type = 20 (GRAPH = 5), ModelProto.ir_version = 1, .graph = 7,
  // .opset_import = 8 (OperatorSetIdProto.version = 2).
  auto varint = [](uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  };
  auto field = [&](int number, const std::string& payload) {
    return varint(static_cast<uint64_t>(number) << 3 | 2) + varint(payload.size()) + payload;
  };
  // Level i's graph is prefix_i + graph_{i+1} + suffix_i; appending every
  // prefix, then every suffix in reverse, keeps this linear in the depth.
  const std::string name = field(1, "then_branch"), op = field(4, "If");
  const std::string graph_type = varint(20 << 3) + varint(5);
  std::vector<std::string> prefixes(static_cast<size_t>(depth));
  size_t inner = 0;  // the length of graph_{i+1}
  for (int i = depth - 1; i >= 0; --i) {
    const std::string g_head = varint(6 << 3 | 2) + varint(inner);
    const size_t attr = name.size() + g_head.size() + inner + graph_type.size();
    const std::string attr_head = varint(5 << 3 | 2) + varint(attr);
    const size_t node = op.size() + attr_head.size() + attr;
    const std::string node_head = varint(1 << 3 | 2) + varint(node);
    prefixes[static_cast<size_t>(i)] = node_head + op + attr_head + name + g_head;
    inner = node_head.size() + node;
  }
  std::string graph;
  graph.reserve(inner);
  for (const std::string& p : prefixes) graph += p;
  for (int i = 0; i < depth; ++i) graph += graph_type;
  return varint(1 << 3) + varint(8) + field(7, graph) + field(8, varint(2 << 3) + varint(13));
}

TEST(SubgraphLoader, HundredThousandNestedIfsAreACleanErrorOnASmallStack) {
  const std::string path = testing::temp_dir("deep_if") + "/deep.onnx";
  {
    std::string bytes = deep_if_bytes(100'000);
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
  struct Job {
    std::string path;
    Status status = Status::ok();
  } job{path};
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 512 << 10), 0);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    auto* j = static_cast<Job*>(arg);
    j->status = load_onnx_file(j->path).status();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &job), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(job.status.code(), ErrorCode::kInvalidModel) << job.status.message();
  EXPECT_NE(job.status.message().find("nest 100001 deep"), std::string::npos) << job.status.message();
}

// The optimized graph written back keeps its subgraphs (with outer values
// renamed by passes) and runs the same after reloading.
TEST(SubgraphLoader, WrittenSubgraphsRoundTrip) {
  onnx::ModelProto model = testing::nested_model();
  // An Identity before the captured X, which -O1 removes (the subgraphs then
  // capture X itself): the writer must name what they are bound to.
  auto* graph = model.mutable_graph();
  for (auto& n : *graph->mutable_node()) {
    for (auto& in : *n.mutable_input()) {
      if (in == "X") in = "X_alias";
    }
  }
  std::function<void(onnx::GraphProto&)> rename = [&](onnx::GraphProto& g) {
    for (auto& n : *g.mutable_node()) {
      for (auto& in : *n.mutable_input()) {
        if (in == "X") in = "X_alias";
      }
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_g()) rename(*a.mutable_g());
      }
    }
  };
  rename(*graph);
  auto* id = graph->add_node();
  id->set_op_type("Identity");
  id->add_input("X");
  id->add_output("X_alias");
  id->set_name("alias");
  auto session = testing::make_session(model);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  onnx::ModelProto written;
  graph_to_model((*session)->graph(), written);
  auto again = testing::make_session(written);
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  const std::vector<float> x = {1.0f, -2.0f, 4.0f};
  std::vector<NamedTensor> feed = {{"outer", testing::scalar<bool>(true)}, {"M", testing::scalar<int64_t>(5)},
                                   {"k", testing::scalar<int64_t>(2)}, {"X", testing::make_tensor<float>({3}, x)}};
  auto a = (*session)->run(feed);
  auto b = (*again)->run(feed);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_EQ(testing::values_of<float>(b.value()[0].tensor), testing::nested_reference(true, 5, 2, x));
  EXPECT_EQ(testing::values_of<float>(a.value()[0].tensor), testing::values_of<float>(b.value()[0].tensor));
  EXPECT_EQ((*again)->graph().num_live_nodes(), 1u) << "the alias Identity was removed before writing";
}

}  // namespace
}  // namespace onnx_mini
