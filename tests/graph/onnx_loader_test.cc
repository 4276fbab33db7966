// The loader: every tensor encoding, and the validation errors of issue 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "graph/onnx_loader.h"
#include "graph/tensor_proto.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;

Result<Tensor> convert(onnx::TensorProto p) { return tensor_from_proto(p, TensorSource{"", "test tensor"}); }

TEST(TensorProtoTest, RawDataFloatIsLittleEndianAndMovedNotCopied) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(2);
  float v[2] = {1.5f, -2.25f};
  p.set_raw_data(std::string(reinterpret_cast<char*>(v), sizeof v));
  auto t = tensor_from_proto(p, TensorSource{"", "x"});
  ASSERT_TRUE(t.is_ok()) << t.status().message();
  EXPECT_EQ(t->data<float>()[0], 1.5f);
  EXPECT_EQ(t->data<float>()[1], -2.25f);
  EXPECT_TRUE(p.raw_data().empty()) << "raw_data should be moved out of the message";
}

TEST(TensorProtoTest, TypedFieldsForEveryNumericDtype) {
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::DOUBLE);
    p.add_dims(2);
    p.add_double_data(0.1);
    p.add_double_data(-3);
    auto t = convert(p);
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(t->data<double>()[0], 0.1);
  }
  {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto::INT64);
    p.add_dims(1);
    p.add_int64_data(-(int64_t{1} << 40));
    auto t = convert(p);
    ASSERT_TRUE(t.is_ok());
    EXPECT_EQ(t->data<int64_t>()[0], -(int64_t{1} << 40));
  }
  for (auto type : {onnx::TensorProto::INT32, onnx::TensorProto::INT16, onnx::TensorProto::INT8,
                    onnx::TensorProto::UINT8, onnx::TensorProto::UINT16, onnx::TensorProto::BOOL}) {
    onnx::TensorProto p;
    p.set_data_type(type);
    p.add_dims(3);
    p.add_int32_data(0);
    p.add_int32_data(1);
    p.add_int32_data(type == onnx::TensorProto::BOOL ? 1 : 7);
    auto t = convert(p);
    ASSERT_TRUE(t.is_ok()) << onnx::TensorProto::DataType_Name(type);
    double third = 0;
    dispatch_dtype(t->dtype(), [&](auto tag) { third = static_cast<double>(t->data<decltype(tag)>()[2]); });
    EXPECT_EQ(third, type == onnx::TensorProto::BOOL ? 1 : 7) << onnx::TensorProto::DataType_Name(type);
  }
  for (auto type : {onnx::TensorProto::UINT32, onnx::TensorProto::UINT64}) {
    onnx::TensorProto p;
    p.set_data_type(type);
    p.add_dims(1);
    p.add_uint64_data(4000000000u);
    auto t = convert(p);
    ASSERT_TRUE(t.is_ok());
    double v = 0;
    dispatch_dtype(t->dtype(), [&](auto tag) { v = static_cast<double>(t->data<decltype(tag)>()[0]); });
    EXPECT_EQ(v, 4000000000.0);
  }
}

TEST(TensorProtoTest, RawBoolBytesAreNormalised) {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::BOOL);
  p.add_dims(2);
  p.set_raw_data(std::string("\x00\x05", 2));
  auto t = convert(p);
  ASSERT_TRUE(t.is_ok());
  unsigned char bytes[2];
  std::memcpy(bytes, t->raw_data(), 2);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 1);
}

TEST(TensorProtoTest, SizeMismatchesAreErrors) {
  onnx::TensorProto raw;
  raw.set_data_type(onnx::TensorProto::FLOAT);
  raw.add_dims(3);
  raw.set_raw_data(std::string(8, '\0'));
  auto a = convert(raw);
  ASSERT_FALSE(a.is_ok());
  EXPECT_EQ(a.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(a.status().message().find("raw_data has 8 bytes"), std::string::npos) << a.status().message();

  onnx::TensorProto typed;
  typed.set_data_type(onnx::TensorProto::FLOAT);
  typed.add_dims(3);
  typed.add_float_data(1);
  auto b = convert(typed);
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("has 1 values"), std::string::npos) << b.status().message();

  onnx::TensorProto huge;  // claims 2^62 elements with no data: refused before any allocation
  huge.set_data_type(onnx::TensorProto::FLOAT);
  huge.add_dims(int64_t{1} << 31);
  huge.add_dims(int64_t{1} << 31);
  auto c = convert(huge);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("too many elements"), std::string::npos) << c.status().message();

  onnx::TensorProto negative;
  negative.set_data_type(onnx::TensorProto::FLOAT);
  negative.add_dims(-2);
  EXPECT_FALSE(convert(negative).is_ok());

  onnx::TensorProto strings;
  strings.set_data_type(onnx::TensorProto::STRING);
  strings.add_dims(1);
  strings.add_string_data("a");
  auto d = convert(strings);
  ASSERT_FALSE(d.is_ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kUnsupported);
}

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

// Opsets 18-20: ops that only exist there load and run (Mish 18, Gelu 20), and
// ReduceMean takes its axes as an input from 18.
TEST(LoaderTest, NewerOpsetsUpTo20) {
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
    Status s = graph_from_model(b.model(), "").status();
    EXPECT_EQ(s.code(), ErrorCode::kUnsupported);
    EXPECT_NE(s.message().find("opset 21 is not supported"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace onnx_mini
