// QuantizeLinear and DequantizeLinear: rounding (half to even), saturation,
// NaN and infinities, per tensor and per axis (every axis, negative axes),
// int8 and uint8, the zero point's absence, int32 dequantization, and the
// errors (shape mismatches, per-axis at opset 10, unsupported types and blocks).
#include <cmath>
#include <limits>

#include "tests/testutil/kernel_runner.h"

namespace onnx_mini::testing {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Attributes axis_attr(int64_t axis) {
  Attributes a;
  a.set("axis", int_attr(axis));
  return a;
}

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturatesUint8) {
  const Tensor x = make_tensor({10}, {0.f, 2.5f, 3.5f, -2.5f, 5.f, 1000.f, -1000.f, kNaN, kInf, -kInf});
  const Tensor scale = scalar(1.0f);
  const Tensor zp = scalar<uint8_t>(10);
  auto y = run_kernel("QuantizeLinear", 13, {}, {&x, &scale, &zp});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  // 2.5 -> 2 (even), 3.5 -> 4, -2.5 -> -2; +10 zero point; clamp to [0, 255];
  // NaN -> the zero point.
  EXPECT_EQ(values_of<uint8_t>(y.value()[0]), (std::vector<uint8_t>{10, 12, 14, 8, 15, 255, 0, 10, 255, 0}));
}

TEST(QuantizeLinear, Int8WithScale) {
  const Tensor x = make_tensor({6}, {-1.f, -0.25f, 0.25f, 0.75f, 100.f, -100.f});
  const Tensor scale = scalar(0.5f);
  const Tensor zp = scalar<int8_t>(-3);
  auto y = run_kernel("QuantizeLinear", 13, {}, {&x, &scale, &zp});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  // x / 0.5 = -2, -0.5 -> -0 (even), 0.5 -> 0, 1.5 -> 2, 200, -200; -3; clamp [-128, 127].
  EXPECT_EQ(values_of<int8_t>(y.value()[0]), (std::vector<int8_t>{-5, -3, -3, -1, 127, -128}));
}

TEST(QuantizeLinear, NoZeroPointGivesUint8) {
  const Tensor x = make_tensor({3}, {-1.f, 1.f, 2.f});
  const Tensor scale = scalar(0.5f);
  auto y = run_kernel("QuantizeLinear", 10, {}, {&x, &scale});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(y.value()[0].dtype(), DataType::kUInt8);
  EXPECT_EQ(values_of<uint8_t>(y.value()[0]), (std::vector<uint8_t>{0, 2, 4}));
}

// Per axis against a per-element reference, for each axis of a 3-D x.
TEST(QuantizeLinear, PerAxisEveryAxis) {
  const Tensor x = random_tensor({2, 3, 4}, 5, -4.f, 4.f);
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const int64_t a = axis < 0 ? axis + 3 : axis;
    const int64_t n = x.dim(a);
    std::vector<float> scales;
    std::vector<int8_t> zps;
    for (int64_t i = 0; i < n; ++i) {
      scales.push_back(0.05f * static_cast<float>(i + 1));
      zps.push_back(static_cast<int8_t>(i * 7 - 5));
    }
    const Tensor scale = make_tensor({n}, scales);
    const Tensor zp = make_tensor<int8_t>({n}, zps);
    auto y = run_kernel("QuantizeLinear", 13, axis_attr(axis), {&x, &scale, &zp});
    ASSERT_TRUE(y.is_ok()) << y.status().message();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      const int64_t c = unravel(i, x.shape())[static_cast<size_t>(a)];
      const float v = std::nearbyint(x.data<float>()[i] / scales[c]) + zps[c];
      EXPECT_EQ(y.value()[0].data<int8_t>()[i], static_cast<int8_t>(std::clamp(v, -128.f, 127.f))) << "element " << i;
    }
    auto back = run_kernel("DequantizeLinear", 13, axis_attr(axis), {&y.value()[0], &scale, &zp});
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      const int64_t c = unravel(i, x.shape())[static_cast<size_t>(a)];
      const float want = static_cast<float>(y.value()[0].data<int8_t>()[i] - zps[c]) * scales[c];
      EXPECT_EQ(back.value()[0].data<float>()[i], want) << "element " << i;
    }
  }
}

TEST(DequantizeLinear, Uint8AndInt32) {
  const Tensor x = make_tensor<uint8_t>({4}, {0, 3, 128, 255});
  const Tensor scale = scalar(2.0f);
  const Tensor zp = scalar<uint8_t>(128);
  auto y = run_kernel("DequantizeLinear", 10, {}, {&x, &scale, &zp});
  ASSERT_TRUE(y.is_ok()) << y.status().message();
  EXPECT_EQ(values_of<float>(y.value()[0]), (std::vector<float>{-256.f, -250.f, 0.f, 254.f}));
  const Tensor xi = make_tensor<int32_t>({3}, {-1000000, 0, 7});
  const Tensor zi = scalar<int32_t>(0);
  auto yi = run_kernel("DequantizeLinear", 13, {}, {&xi, &scale, &zi});
  ASSERT_TRUE(yi.is_ok()) << yi.status().message();
  EXPECT_EQ(values_of<float>(yi.value()[0]), (std::vector<float>{-2000000.f, 0.f, 14.f}));
  const Tensor bad_zp = scalar<int32_t>(1);
  EXPECT_EQ(run_kernel("DequantizeLinear", 13, {}, {&xi, &scale, &bad_zp}).status().code(), ErrorCode::kBadInput);
}

TEST(Quantize, Errors) {
  const Tensor x = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor scale3 = make_tensor({3}, {1, 2, 3});
  const Tensor zp2 = make_tensor<uint8_t>({2}, {1, 2});
  // Per-axis scale at opset 10 (scalars only there).
  EXPECT_EQ(run_kernel("QuantizeLinear", 10, {}, {&x, &scale3}).status().code(), ErrorCode::kBadInput);
  // Scale along the wrong axis (axis 1 by default has 3; axis 0 has 2).
  EXPECT_EQ(run_kernel("QuantizeLinear", 13, axis_attr(0), {&x, &scale3}).status().code(), ErrorCode::kBadInput);
  // Zero point and scale of different shapes.
  EXPECT_EQ(run_kernel("QuantizeLinear", 13, {}, {&x, &scale3, &zp2}).status().code(), ErrorCode::kBadInput);
  // Axis out of range.
  EXPECT_EQ(run_kernel("QuantizeLinear", 13, axis_attr(2), {&x, &scale3}).status().code(), ErrorCode::kInvalidModel);
  // int16 zero point: an unsupported type.
  const Tensor zp16 = scalar<int16_t>(0);
  const Tensor scale = scalar(1.0f);
  EXPECT_EQ(run_kernel("QuantizeLinear", 13, {}, {&x, &scale, &zp16}).status().code(), ErrorCode::kUnsupported);
  // Blocked quantization (opset 21).
  Attributes blocked;
  blocked.set("block_size", int_attr(2));
  EXPECT_EQ(run_kernel("QuantizeLinear", 21, blocked, {&x, &scale}).status().code(), ErrorCode::kUnsupported);
  // A scale that is not float.
  const Tensor dscale = scalar(1.0);
  EXPECT_EQ(run_kernel("DequantizeLinear", 13, {}, {&zp2, &dscale}).status().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace onnx_mini::testing
