// --check's comparison: every dtype the loader accepts is compared for real
// (float16 was compared as zeros and always passed), or refused with an error.
#include "onnx_run/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "onnx_run/check.h"
#include "core/half.h"

namespace onnx_mini::onnx_run {
namespace {

Tensor half_tensor(const std::vector<double>& values) {
  Tensor t = Tensor::allocate(DataType::kFloat16, {static_cast<int64_t>(values.size())});
  auto* bits = static_cast<uint16_t*>(t.raw_data());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = double_to_half(values[i]);
  return t;
}

// Two tensors of `dtype` holding 1, 2, 3 and 1, 2, 4 (bool: 1,0,1 and 1,0,0),
// written through each dtype's own bit pattern.
std::pair<Tensor, Tensor> differing_pair(DataType dtype) {
  Tensor a = Tensor::allocate(dtype, {3}), b = Tensor::allocate(dtype, {3});
  const double va[3] = {1, 2, 3}, vb[3] = {1, 2, 4};
  for (int i = 0; i < 3; ++i) {
    if (dtype == DataType::kFloat16) {
      static_cast<uint16_t*>(a.raw_data())[i] = double_to_half(va[i]);
      static_cast<uint16_t*>(b.raw_data())[i] = double_to_half(vb[i]);
    } else if (dtype == DataType::kBFloat16) {
      // bfloat16 is the high half of a float32.
      auto high = [](double v) { float f = static_cast<float>(v); uint32_t u; std::memcpy(&u, &f, 4); return static_cast<uint16_t>(u >> 16); };
      static_cast<uint16_t*>(a.raw_data())[i] = high(va[i]);
      static_cast<uint16_t*>(b.raw_data())[i] = high(vb[i]);
    } else if (dtype == DataType::kBool) {
      a.data<bool>()[i] = i != 1;
      b.data<bool>()[i] = i == 0;
    } else {
      EXPECT_TRUE(dispatch_dtype(dtype, [&](auto tag) {
        using T = decltype(tag);
        a.data<T>()[i] = static_cast<T>(va[i]);
        b.data<T>()[i] = static_cast<T>(vb[i]);
      })) << dtype_name(dtype);
    }
  }
  return {std::move(a), std::move(b)};
}

TEST(CompareTest, EveryDtypeTheLoaderAcceptsIsComparedForReal) {
  // Walks every enum value the loader could accept: a dtype added to
  // dtype_is_supported (the loader's list) without a comparison fails here.
  int checked = 0;
  for (int v = 0; v < 256; ++v) {
    const auto dtype = static_cast<DataType>(v);
    if (!dtype_is_supported(dtype)) continue;
    ++checked;
    auto [a, b] = differing_pair(dtype);
    auto same = compare_tensors(a, a, 0, 0);
    ASSERT_TRUE(same.is_ok()) << dtype_name(dtype) << ": " << same.status().message();
    EXPECT_TRUE(same->pass) << dtype_name(dtype);
    auto differ = compare_tensors(b, a, 0, 0);
    ASSERT_TRUE(differ.is_ok()) << dtype_name(dtype);
    EXPECT_FALSE(differ->pass) << dtype_name(dtype) << " compared as equal";
    EXPECT_EQ(differ->mismatches, dtype == DataType::kBool ? 1 : 1) << dtype_name(dtype);
    EXPECT_EQ(differ->worst_index, 2) << dtype_name(dtype);
    EXPECT_EQ(value_at(a, 2), 1.0 * (dtype == DataType::kBool ? 1 : 3)) << dtype_name(dtype) << ": printed values";
  }
  EXPECT_EQ(checked, 13) << "the loader's dtype list changed: review compare.cc";
}

TEST(CompareTest, Float16IsComparedAndPrintedAsItsValues) {
  const Tensor reference = half_tensor({100, -7, INFINITY, 12});
  const Tensor got = half_tensor({1, 2, 3, 4});
  auto c = compare_tensors(got, reference, 1e-5, 1e-4);
  ASSERT_TRUE(c.is_ok());
  EXPECT_FALSE(c->pass);
  EXPECT_EQ(c->mismatches, 4);
  EXPECT_EQ(leading_values(got, 8), "1 2 3 4");
  EXPECT_EQ(leading_values(reference, 8), "100 -7 inf 12");
  // float16 within tolerance of its reference passes: 1/1024 apart is one float16 ULP at 1.
  auto close = compare_tensors(half_tensor({1.0009765625}), half_tensor({1}), 0, 1e-3);
  ASSERT_TRUE(close.is_ok());
  EXPECT_TRUE(close->pass);
}

TEST(CompareTest, LargeIntegersAreComparedExactlyNotThroughDouble) {
  // 2^53 + 1 and 2^53 are one double apart from nothing: equal as doubles.
  Tensor a = Tensor::allocate(DataType::kInt64, {1}), b = Tensor::allocate(DataType::kInt64, {1});
  a.data<int64_t>()[0] = (int64_t{1} << 53) + 1;
  b.data<int64_t>()[0] = int64_t{1} << 53;
  auto c = compare_tensors(a, b, 0, 0);
  ASSERT_TRUE(c.is_ok());
  EXPECT_FALSE(c->pass);
  EXPECT_EQ(c->got_text, "9007199254740993");
  EXPECT_EQ(c->expected_text, "9007199254740992");
}

TEST(CompareTest, ADtypeWithoutAComparisonIsRefused) {
  Tensor a = Tensor::allocate(DataType::kFloat, {1});
  Tensor s;  // an undefined tensor stands for a dtype no tensor can hold
  auto c = compare_tensors(s, s, 0, 0);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace onnx_mini::onnx_run
