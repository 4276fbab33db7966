// Cast / CastLike: every numeric pair through a naive reference, and the
// defined results where C would be undefined (NaN and out-of-range float -> int).
#include <gtest/gtest.h>

#include <limits>

#include "core/half.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

const std::vector<DataType> kTypes = {DataType::kFloat, DataType::kDouble, DataType::kInt64, DataType::kInt32,
                                      DataType::kInt8,  DataType::kUInt8,  DataType::kBool};

// Values exactly representable in every type above (bool: zero vs nonzero).
Tensor sample(DataType t) {
  const std::vector<double> v = {0, 1, 2, 7, 100, 3};
  Tensor x = Tensor::allocate(t, {6});
  dispatch_dtype(t, [&](auto tag) {
    using T = decltype(tag);
    for (size_t i = 0; i < v.size(); ++i) x.data<T>()[i] = static_cast<T>(v[i]);
  });
  return x;
}

double as_double(const Tensor& t, int64_t i) {
  double d = 0;
  dispatch_dtype(t.dtype(), [&](auto tag) { d = static_cast<double>(t.data<decltype(tag)>()[i]); });
  return d;
}

TEST(Cast, AllPairs) {
  for (DataType from : kTypes) {
    for (DataType to : kTypes) {
      Tensor x = sample(from);
      auto out = NodeModel("Cast", 13).feed(x).attr_int("to", static_cast<int64_t>(to)).run();
      ASSERT_TRUE(out.is_ok()) << dtype_name(from) << "->" << dtype_name(to) << ": " << out.status().message();
      const Tensor& y = out.value()[0];
      ASSERT_EQ(y.dtype(), to);
      for (int64_t i = 0; i < 6; ++i) {
        double want = as_double(x, i);
        if (to == DataType::kBool) want = want != 0;
        EXPECT_EQ(as_double(y, i), want) << dtype_name(from) << "->" << dtype_name(to) << " at " << i;
      }
      // CastLike gives the same.
      auto like = NodeModel("CastLike", 15).feed(x).feed(Tensor::allocate(to, {1})).run();
      ASSERT_TRUE(like.is_ok()) << like.status().message();
      EXPECT_EQ(like.value()[0].dtype(), to);
    }
  }
}

TEST(Cast, FloatToIntTruncatesNaNGivesZeroAndOutOfRangeSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  Tensor x = make_tensor<float>({7}, {2.9f, -2.9f, nan, inf, -inf, 1e20f, 300.f});
  auto i32 = NodeModel("Cast", 13).feed(x).attr_int("to", 6).run();
  auto u8 = NodeModel("Cast", 13).feed(x).attr_int("to", 2).run();
  ASSERT_TRUE(i32.is_ok() && u8.is_ok());
  const int32_t mx = std::numeric_limits<int32_t>::max(), mn = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values_of<int32_t>(i32.value()[0]), (std::vector<int32_t>{2, -2, 0, mx, mn, mx, 300}));
  EXPECT_EQ(values_of<uint8_t>(u8.value()[0]), (std::vector<uint8_t>{2, 0, 0, 255, 0, 255, 255}));
  auto b = NodeModel("Cast", 13).feed(x).attr_int("to", 9).run();
  ASSERT_TRUE(b.is_ok());
  EXPECT_EQ(b.value()[0].data<bool>()[2], true);  // NaN is nonzero
}

TEST(Cast, UnsupportedTargetsAreRejectedAtLoad) {
  auto s = NodeModel("Cast", 13).feed(make_tensor<float>({1}, {0})).attr_int("to", 8).run();  // string
  ASSERT_FALSE(s.is_ok());
  auto bad = NodeModel("Cast", 13).feed(make_tensor<float>({1}, {0})).attr_int("to", 99).run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_FALSE(NodeModel("Cast", 13).feed(make_tensor<float>({1}, {0})).run().is_ok());  // 'to' is required
}

TEST(Cast, Float16KnownValuesThroughTheNode) {
  const float inf = std::numeric_limits<float>::infinity();
  // 65519 rounds down to 65504 (max half), 65520 is the tie that rounds to inf,
  // 2^-24 is the smallest subnormal, 2^-25 ties to even (0), 0.1 is 0x2e66.
  Tensor x = make_tensor<float>({8}, {1.f, -2.f, 65519.f, 65520.f, std::ldexp(1.f, -24), std::ldexp(1.f, -25), 0.1f, -inf});
  auto h = NodeModel("Cast", 13).feed(x).attr_int("to", 10).run();
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  ASSERT_EQ(h.value()[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(h.value()[0]),
            (std::vector<uint16_t>{0x3c00, 0xc000, 0x7bff, 0x7c00, 0x0001, 0x0000, 0x2e66, 0xfc00}));
  auto back = NodeModel("Cast", 13).feed(h.value()[0]).attr_int("to", 1).run();
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(values_of<float>(back.value()[0]),
            (std::vector<float>{1.f, -2.f, 65504.f, inf, std::ldexp(1.f, -24), 0.f, 0.0999755859375f, -inf}));
}

TEST(Cast, EveryFloat16RoundTripsThroughDouble) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    const double d = half_to_double(h);
    if (std::isnan(d)) {
      EXPECT_TRUE((h & 0x7c00) == 0x7c00 && (h & 0x3ff));
      EXPECT_TRUE(std::isnan(half_to_double(double_to_half(d))));
      continue;
    }
    ASSERT_EQ(double_to_half(d), h) << "bits " << bits;
  }
}

// Cast/CastLike-19 add `saturate` (float8 only, which onnx-mini does not run):
// accepted from opset 19, unknown before.
TEST(Cast, SaturateAttributeFromOpset19) {
  Tensor x = make_tensor<float>({3}, {1.5f, -2.5f, 300.f});
  auto cast = NodeModel("Cast", 19).feed(x).attr_int("to", static_cast<int64_t>(DataType::kInt32)).attr_int("saturate", 0).run();
  ASSERT_TRUE(cast.is_ok()) << cast.status().message();
  EXPECT_EQ(values_of<int32_t>(cast.value()[0]), (std::vector<int32_t>{1, -2, 300}));
  auto like = NodeModel("CastLike", 19).feed(x).feed(make_tensor<double>({1}, {0})).attr_int("saturate", 1).run();
  ASSERT_TRUE(like.is_ok()) << like.status().message();
  EXPECT_EQ(values_of<double>(like.value()[0]), (std::vector<double>{1.5, -2.5, 300}));
  EXPECT_FALSE(NodeModel("Cast", 18).feed(x).attr_int("to", static_cast<int64_t>(DataType::kInt32)).attr_int("saturate", 0).run().is_ok());
}

}  // namespace
}  // namespace onnx_mini::testing
