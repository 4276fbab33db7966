// LayerNormalization (ops/layer_norm.cc) against a long-double reference: every
// axis, the optional Mean and InvStdDev outputs, Scale and B broadcast in each
// way the kernel handles (in place, expanded once, varying over rows), a mean
// far larger than the spread (where E[x^2] - E[x]^2 would lose every digit),
// and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {
namespace {

struct Reference {
  std::vector<long double> y, mean, inv_std, terms;  // terms: |normalized * scale| + |bias| per element
};

// Naive: rows are the dims before axis; Scale and B indexed by broadcasting.
Reference reference(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis, float epsilon) {
  const Shape& s = x.shape();
  const int64_t rank = static_cast<int64_t>(s.size());
  if (axis < 0) axis += rank;
  int64_t cols = 1;
  for (int64_t d = axis; d < rank; ++d) cols *= s[static_cast<size_t>(d)];
  const int64_t rows = x.num_elements() / cols;
  Reference r;
  for (int64_t row = 0; row < rows; ++row) {
    long double sum = 0, squares = 0;
    for (int64_t c = 0; c < cols; ++c) sum += x.data<float>()[row * cols + c];
    const long double mean = sum / cols;
    for (int64_t c = 0; c < cols; ++c) {
      const long double d = x.data<float>()[row * cols + c] - mean;
      squares += d * d;
    }
    const long double inv = 1 / std::sqrt(squares / cols + static_cast<long double>(epsilon));
    r.mean.push_back(mean);
    r.inv_std.push_back(inv);
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = row * cols + c;
      const std::vector<int64_t> idx = unravel(i, s);
      const long double sc = scale.data<float>()[broadcast_source(idx, scale.shape(), s)];
      const long double b = bias ? bias->data<float>()[broadcast_source(idx, bias->shape(), s)] : 0;
      const long double n = (x.data<float>()[i] - mean) * inv * sc;
      r.y.push_back(n + b);
      r.terms.push_back(std::fabs(n) + std::fabs(b));
    }
  }
  return r;
}

// The kernel evaluates in double and rounds once: each result is within one
// float ULP of the exact value (half for the rounding, the rest a margin), plus
// the double evaluation's own error, a few double ULPs (2^-50) of the terms that
// were summed (normalized * scale and B may cancel).
void expect_within(const float* got, const std::vector<long double>& want, const std::vector<long double>* terms,
                   const std::string& what) {
  for (size_t i = 0; i < want.size(); ++i) {
    const long double bound = std::ldexp(std::fabs(want[i]), -23) + (terms ? std::ldexp((*terms)[i], -50) : 0);
    ASSERT_LE(std::fabs(got[i] - want[i]), bound) << what << " element " << i << ": got " << got[i] << ", want "
                                                 << static_cast<double>(want[i]);
  }
}

Attributes attrs(int64_t axis, float epsilon = 1e-5f) {
  Attributes a;
  a.set("axis", int_attr(axis));
  a.set("epsilon", float_attr(epsilon));
  return a;
}

void check(const Tensor& x, const Tensor& scale, const Tensor* bias, int64_t axis, float epsilon = 1e-5f) {
  auto out = run_kernel("LayerNormalization", 17, attrs(axis, epsilon), {&x, &scale, bias}, {true, true, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const Reference r = reference(x, scale, bias, axis, epsilon);
  const std::string what = "axis " + std::to_string(axis);
  expect_within((*out)[0].data<float>(), r.y, &r.terms, what + " Y");
  expect_within((*out)[1].data<float>(), r.mean, nullptr, what + " Mean");
  expect_within((*out)[2].data<float>(), r.inv_std, nullptr, what + " InvStdDev");
}

TEST(LayerNorm, EveryAxisWithMeanAndInvStdDev) {
  const Tensor x = random_tensor({2, 3, 40}, 1, -3.f, 3.f);
  for (int64_t axis = -3; axis <= 3; ++axis) {
    const int64_t a = axis < 0 ? axis + 3 : axis;
    Shape norm(x.shape().begin() + a, x.shape().end());
    const Tensor scale = random_tensor(norm, 2, 0.5f, 2.f), bias = random_tensor(norm, 3);
    check(x, scale, &bias, axis);
    check(x, scale, nullptr, axis);
  }
}

TEST(LayerNorm, StatisticShapesKeepLeadingDims) {
  const Tensor x = random_tensor({2, 3, 4}, 4), scale = random_tensor({3, 4}, 5);
  auto out = run_kernel("LayerNormalization", 17, attrs(1), {&x, &scale}, {true, true, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ((*out)[1].shape(), (Shape{2, 1, 1}));
  EXPECT_EQ((*out)[2].shape(), (Shape{2, 1, 1}));
}

// A mean 10^4 times the spread: x - mean in float, or E[x^2] - E[x]^2, would keep
// about 10 of float's 24 bits; the two-pass double sums keep them all.
TEST(LayerNorm, LargeMeanSmallSpread) {
  Tensor x = random_tensor({4, 256}, 6, -1.f, 1.f);
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] += 1e4f;
  const Tensor scale = random_tensor({256}, 7, 0.5f, 2.f), bias = random_tensor({256}, 8);
  check(x, scale, &bias, -1);
}

// Scale [1, 40] (leading 1: read in place), B [3, 1] over the normalised [3, 40]
// (expanded once), B [2, 1, 40] (varies over the rows: expanded to X's size).
TEST(LayerNorm, BroadcastScaleAndBias) {
  const Tensor x = random_tensor({2, 3, 40}, 9);
  const Tensor scale_row = random_tensor({1, 40}, 10), bias_col = random_tensor({3, 1}, 11);
  check(x, scale_row, &bias_col, 1);
  const Tensor bias_rows = random_tensor({2, 1, 40}, 12);
  check(x, scale_row, &bias_rows, -1);
  const Tensor scale_scalar = make_tensor<float>({}, {1.5f});
  check(x, scale_scalar, nullptr, 0);
}

TEST(LayerNorm, ConstantRowGivesBias) {
  const Tensor x = make_tensor({2, 3}, {5, 5, 5, -1, -1, -1});
  const Tensor scale = make_tensor({3}, {1, 2, 3}), bias = make_tensor({3}, {0.5f, 0.25f, -1});
  auto out = run_kernel("LayerNormalization", 17, attrs(-1), {&x, &scale, &bias}, {true, false, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>((*out)[0]), (std::vector<float>{0.5f, 0.25f, -1, 0.5f, 0.25f, -1}));
  // 1 / sqrt(0 + 1e-5), rounded once.
  const float inv = static_cast<float>(1 / std::sqrt(static_cast<double>(1e-5f)));
  EXPECT_EQ(values_of<float>((*out)[2]), (std::vector<float>{inv, inv}));
}

TEST(LayerNorm, EmptyInput) {
  const Tensor x = Tensor::allocate(DataType::kFloat, {0, 4}), scale = random_tensor({4}, 13);
  auto out = run_kernel("LayerNormalization", 17, attrs(-1), {&x, &scale}, {true, true});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ((*out)[0].shape(), (Shape{0, 4}));
  EXPECT_EQ((*out)[1].shape(), (Shape{0, 1}));
}

TEST(LayerNorm, Errors) {
  const Tensor x = random_tensor({2, 3}, 14), scale = random_tensor({3}, 15);
  auto bad_axis = run_kernel("LayerNormalization", 17, attrs(3), {&x, &scale});
  ASSERT_FALSE(bad_axis.is_ok());
  EXPECT_NE(bad_axis.status().message().find("axis 3"), std::string::npos) << bad_axis.status().message();
  const Tensor wrong = random_tensor({4}, 16);
  auto bad_scale = run_kernel("LayerNormalization", 17, attrs(-1), {&x, &wrong});
  ASSERT_FALSE(bad_scale.is_ok());
  EXPECT_NE(bad_scale.status().message().find("Scale"), std::string::npos) << bad_scale.status().message();
  Attributes stash = attrs(-1);
  stash.set("stash_type", int_attr(16));  // bfloat16: not supported, said so
  auto bad_stash = run_kernel("LayerNormalization", 17, stash, {&x, &scale});
  ASSERT_FALSE(bad_stash.is_ok());
  EXPECT_NE(bad_stash.status().message().find("stash_type"), std::string::npos);
}

}  // namespace
}  // namespace onnx_mini::testing
