// The loader (graph/onnx_loader.cc): structural validation errors, unsupported
// ops and opsets, initializers that are also inputs, shapes at load time.
#include <gtest/gtest.h>

#include <cmath>

#include "graph/onnx_loader.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;

ModelBuilder relu_model(int opset = 13) {
  ModelBuilder b(opset);
  b.input("x", DataType::kFloat, {2});
  b.node("Relu", {"x"}, {"y"}, "relu");
  b.output("y", DataType::kFloat);
  return b;
}

Status load_status(onnx::ModelProto m) { return graph_from_model(m, "").status(); }

TEST(LoaderTest, ValidModelLoadsWithShapes) {
  ModelBuilder b = relu_model();
  auto g = graph_from_model(b.model(), "");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  ValueId y = g->find_value("y");
  EXPECT_EQ(g->value(y).info.to_string(), "float[2]");
}

TEST(LoaderTest, StructuralErrors) {
  {
    ModelBuilder b = relu_model();
    b.model().clear_ir_version();
    Status s = load_status(b.model());
    EXPECT_EQ(s.code(), ErrorCode::kInvalidModel);
    EXPECT_NE(s.message().find("ir_version"), std::string::npos);
  }
  {
    ModelBuilder b = relu_model();
    b.model().clear_opset_import();
    EXPECT_NE(load_status(b.model()).message().find("opset_import"), std::string::npos);
  }
  {
    ModelBuilder b = relu_model();
    b.node("Relu", {"nowhere"}, {"z"}, "bad");
    Status s = load_status(b.model());
    EXPECT_EQ(s.code(), ErrorCode::kInvalidModel);
    EXPECT_NE(s.message().find("input 'nowhere' is not defined"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("'bad'"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b = relu_model();
    b.node("Relu", {"x"}, {"y"}, "twice");
    EXPECT_NE(load_status(b.model()).message().find("already produced"), std::string::npos);
  }
  {
    ModelBuilder b(13);  // a -> b -> a
    b.input("x", DataType::kFloat, {2});
    b.node("Add", {"x", "b"}, {"a"}, "n1");
    b.node("Relu", {"a"}, {"b"}, "n2");
    b.output("b");
    Status s = load_status(b.model());
    EXPECT_EQ(s.code(), ErrorCode::kInvalidModel);
    EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();
  }
  {
    ModelBuilder b = relu_model();
    b.output("never");
    EXPECT_NE(load_status(b.model()).message().find("'never' is never produced"), std::string::npos);
  }
  {
    ModelBuilder b = relu_model();
    b.initializer("w", {1}, {1});
    b.initializer("w", {1}, {2});
    EXPECT_NE(load_status(b.model()).message().find("defined twice"), std::string::npos);
  }
  {
    ModelBuilder b = relu_model();
    testing::set_attr(b.model().mutable_graph()->mutable_node(0)[0], "bogus", int64_t{1});
    EXPECT_NE(load_status(b.model()).message().find("unknown attribute 'bogus'"), std::string::npos);
  }
}

TEST(LoaderTest, EveryUnsupportedNodeIsListedAtOnce) {
  ModelBuilder b = relu_model();
  b.node("FancyOp", {"y"}, {"z1"}, "first");
  b.node("OtherOp", {"z1"}, {"z2"}, "second");
  auto& custom = b.node("Relu", {"z2"}, {"z3"}, "third");
  custom.set_domain("com.example");
  b.output("z3");
  Status s = load_status(b.model());
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.message().find("3 node(s) cannot run"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("FancyOp (domain ai.onnx, opset 13)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("OtherOp"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("com.example"), std::string::npos) << s.message();
}

TEST(LoaderTest, OpsetTooNewOrOpTooNewAreUnsupported) {
  ModelBuilder b = relu_model(99);
  Status s = load_status(b.model());
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.message().find("opset 99"), std::string::npos) << s.message();

  ModelBuilder old(4);  // Reshape with a shape input exists only from opset 5
  old.input("x", DataType::kFloat, {2});
  old.initializer_i64("s", {1}, {2});
  old.node("Reshape", {"x", "s"}, {"y"}, "r");
  old.output("y");
  Status s2 = load_status(old.model());
  EXPECT_EQ(s2.code(), ErrorCode::kUnsupported);
  EXPECT_NE(s2.message().find("not defined at opset 4"), std::string::npos) << s2.message();
}

TEST(LoaderTest, InitializerThatIsAlsoInputIsAnOverridableDefault) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {2});
  b.input("bias", DataType::kFloat, {2});
  b.initializer("bias", {2}, {10, 20});
  b.node("Add", {"x", "bias"}, {"y"}, "add");
  b.output("y");
  auto s = testing::make_session(b.model());
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  auto out = (*s)->run({{"x", testing::make_tensor({2}, {1, 2})}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out->at(0).tensor.data<float>()[1], 22);
  auto over = (*s)->run({{"x", testing::make_tensor({2}, {1, 2})}, {"bias", testing::make_tensor({2}, {0, 0})}});
  ASSERT_TRUE(over.is_ok());
  EXPECT_EQ(over->at(0).tensor.data<float>()[1], 2);
}

TEST(LoaderTest, SymbolicDimsPropagate) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {-1, 4});
  b.initializer("w", {4, 3}, std::vector<float>(12, 0.5f));
  b.node("MatMul", {"x", "w"}, {"y"}, "mm");
  b.node("Relu", {"y"}, {"z"}, "relu");
  b.output("z");
  auto g = graph_from_model(b.model(), "");
  ASSERT_TRUE(g.is_ok()) << g.status().message();
  EXPECT_EQ(g->value(g->find_value("z")).info.to_string(), "float[N, 3]");
}

TEST(LoaderTest, LoadTimeShapeMismatchIsInvalidModel) {
  ModelBuilder b(13);
  b.input("x", DataType::kFloat, {2, 5});
  b.initializer("w", {4, 3}, std::vector<float>(12, 0.5f));
  b.node("Gemm", {"x", "w"}, {"y"}, "fc");
  b.output("y");
  Status s = load_status(b.model());
  EXPECT_EQ(s.code(), ErrorCode::kInvalidModel);
  EXPECT_NE(s.message().find("node 'fc' (Gemm)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("inner dimensions differ"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace onnx_mini

namespace onnx_mini {
namespace {

// Opsets 18-21: ops that only exist there load and run (Mish 18, Gelu 20), and
// ReduceMean takes its axes as an input from 18; 21 loads (a lone Relu), 22 is refused.
TEST(LoaderTest, NewerOpsetsUpTo21) {
  {
    testing::ModelBuilder b(20);
    b.input("x", DataType::kFloat, {3});
    b.node("Gelu", {"x"}, {"y"}, "gelu");
    b.output("y");
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    auto out = (*s)->run({{"x", testing::make_tensor({3}, {-1, 0, 1})}});
    ASSERT_TRUE(out.is_ok());
    EXPECT_NEAR(out->at(0).tensor.data<float>()[2], 0.8413447, 1e-6);  // 1 * Phi(1)
  }
  {
    testing::ModelBuilder b(18);
    b.input("x", DataType::kFloat, {2, 2});
    b.initializer_i64("axes", {1}, {1});
    b.node("ReduceMean", {"x", "axes"}, {"m"}, "mean");
    b.node("Mish", {"m"}, {"y"}, "mish");
    b.output("y");
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    auto out = (*s)->run({{"x", testing::make_tensor({2, 2}, {0, 0, 2, 4})}});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(out->at(0).tensor.shape(), (Shape{2, 1}));
    EXPECT_NEAR(out->at(0).tensor.data<float>()[1], 3 * std::tanh(std::log1p(std::exp(3.0))), 1e-5);
  }
  {
    testing::ModelBuilder b(21);
    b.input("x", DataType::kFloat, {3});
    b.node("Relu", {"x"}, {"y"}, "relu");
    b.output("y");
    auto s = testing::make_session(b.model());
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    auto out = (*s)->run({{"x", testing::make_tensor({3}, {-1, 0, 2})}});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(testing::values_of<float>(out->at(0).tensor), (std::vector<float>{0, 0, 2}));
  }
  {
    testing::ModelBuilder b(22);
    b.input("x", DataType::kFloat, {3});
    b.node("Relu", {"x"}, {"y"}, "relu");
    b.output("y");
    Status s = graph_from_model(b.model(), "").status();
    EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
    EXPECT_NE(s.message().find("opset 22 is not supported"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace onnx_mini
