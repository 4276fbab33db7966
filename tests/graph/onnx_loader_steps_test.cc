// graph_from_model's steps: the errors of each step that no other test reaches,
// and the order of the steps, which decides what a model with several faults
// reports (a malformed node stops the load; nodes that cannot run are listed
// together; arity is checked only on nodes that resolved).
#include <gtest/gtest.h>

#include <string>

#include "graph/onnx_loader.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;

ModelBuilder relu_model() {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {2});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y", DataType::kFloat);
  return b;
}

Status load_status(ModelBuilder& b) { return graph_from_model(b.model(), "").status(); }

void expect_error(ModelBuilder& b, ErrorCode code, const std::string& message) {
  Status s = load_status(b);
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message(), message);
}

TEST(LoaderStepsTest, InitializersNeedANameAndATypeTheirInputAgreesWith) {
  ModelBuilder unnamed = relu_model();
  unnamed.initializer("", {1}, {1});
  expect_error(unnamed, ErrorCode::kInvalidModel, "an initializer has no name");

  ModelBuilder contradicts(13);
  contradicts.input("x", DataType::kFloat, {2});
  contradicts.input("b", DataType::kInt64, {2});
  contradicts.initializer("b", {2}, {1, 2});
  contradicts.node("Add", {"x", "b"}, {"y"}, "add");
  contradicts.output("y");
  expect_error(contradicts, ErrorCode::kInvalidModel, "graph input 'b' is declared int64 but its initializer is float");
}

TEST(LoaderStepsTest, GraphInputsNeedAUniqueName) {
  ModelBuilder unnamed = relu_model();
  unnamed.input("", DataType::kFloat, {2});
  expect_error(unnamed, ErrorCode::kInvalidModel, "a graph input has no name");

  ModelBuilder twice = relu_model();
  twice.input("x", DataType::kFloat, {2});
  expect_error(twice, ErrorCode::kInvalidModel, "graph input 'x' is listed twice");
}

TEST(LoaderStepsTest, ValueInfoAppliesToNodeOutputsOnly) {
  ModelBuilder b = relu_model();
  // About a graph input: ignored, even though onnx-mini could not read its type.
  auto* about_input = b.model().mutable_graph()->add_value_info();
  about_input->set_name("x");
  about_input->mutable_type()->mutable_sequence_type();
  EXPECT_TRUE(load_status(b).is_ok()) << load_status(b).message();
  // About a node output: read, so a sequence type there is refused.
  auto* about_output = b.model().mutable_graph()->add_value_info();
  about_output->set_name("y");
  about_output->mutable_type()->mutable_sequence_type();
  expect_error(b, ErrorCode::kUnsupported,
               "value_info 'y': only tensor types are supported (not sequences, maps or optionals)");
}

TEST(LoaderStepsTest, NodeSignatures) {
  ModelBuilder empty_required = relu_model();
  empty_required.node("Add", {"", "y"}, {"z"}, "add");
  expect_error(empty_required, ErrorCode::kInvalidModel, "node 'add' (Add): required input 0 is empty");

  ModelBuilder outputs = relu_model();
  outputs.node("Relu", {"y"}, {"z1", "z2"}, "two");
  expect_error(outputs, ErrorCode::kInvalidModel, "node 'two' (Relu): has 2 outputs, expected 1");

  // Trailing absent optional inputs do not count against the minimum.
  ModelBuilder optional(13);
  optional.input("x", DataType::kFloat, {2});
  optional.node("Clip", {"x", "", ""}, {"y"}, "clip");
  optional.output("y");
  EXPECT_TRUE(load_status(optional).is_ok()) << load_status(optional).message();
}

TEST(LoaderStepsTest, GraphOutputsAreListedOnceAndExist) {
  ModelBuilder twice = relu_model();
  twice.output("y");
  expect_error(twice, ErrorCode::kInvalidModel, "graph output 'y' is listed twice");

  ModelBuilder none(13);
  none.input("x", DataType::kFloat, {2});
  none.node("Relu", {"x"}, {"y"}, "relu");
  expect_error(none, ErrorCode::kInvalidModel, "the graph has no outputs");
}

TEST(LoaderStepsTest, AMalformedNodeStopsTheLoadEvenAfterAnUnsupportedOne) {
  ModelBuilder b = relu_model();
  b.node("FancyOp", {"y"}, {"z1"}, "fancy");
  b.node("Relu", {"ghost"}, {"z2"}, "bad");
  Status s = load_status(b);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel) << s.message();
  EXPECT_EQ(s.message(), "node 'bad' (Relu): input 'ghost' is not defined by any node, initializer or graph input");
}

TEST(LoaderStepsTest, UnsupportedNodesAreReportedBeforeArity) {
  // The unknown op has no definition to count its inputs against; the Relu's
  // extra input would be an arity error, reported only once every node runs.
  ModelBuilder b = relu_model();
  b.node("FancyOp", {"y", "y", "y"}, {"z1"}, "fancy");
  b.node("Relu", {"z1", "x"}, {"z2"}, "wide");
  b.output("z2");
  Status s = load_status(b);
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported) << s.message();
  EXPECT_EQ(s.message(), "1 node(s) cannot run:\n  FancyOp (domain ai.onnx, opset 13) in node 'fancy' (FancyOp): unknown op");
}

TEST(LoaderStepsTest, ArityIsReportedBeforeGraphOutputs) {
  ModelBuilder b = relu_model();
  b.node("Relu", {"y", "x"}, {"z"}, "wide");
  b.output("never");
  expect_error(b, ErrorCode::kInvalidModel, "node 'wide' (Relu): has 2 inputs, expected 1");
}

}  // namespace
}  // namespace onnx_mini
