// TensorProto decoding (graph/tensor_proto.cc): every tensor encoding (raw and
// typed fields, every numeric dtype), raw_data moved rather than copied, and the
// size checks that refuse a malformed tensor before allocating.
#include <gtest/gtest.h>

#include <cstring>

#include "graph/tensor_proto.h"

namespace onnx_mini {
namespace {

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

}  // namespace
}  // namespace onnx_mini
