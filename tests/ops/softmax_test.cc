// Softmax / LogSoftmax numerics on huge logits, -inf entries and random rows
// against a long-double reference; opset semantics (coerce-to-2D before 13);
// Hardmax.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"

namespace onnx_mini::testing {
namespace {

// log(sum) as log1p(sum without the first maximum): the naive log(1 + tiny)
// would lose the tiny log-probability of a dominant class even in long double.
std::vector<long double> ref_softmax(const std::vector<float>& row, bool log) {
  size_t arg = 0;
  for (size_t i = 1; i < row.size(); ++i) arg = row[i] > row[arg] ? i : arg;
  const long double m = row[arg];
  long double rest = 0;
  for (size_t i = 0; i < row.size(); ++i) rest += i == arg ? 0 : std::exp(static_cast<long double>(row[i]) - m);
  std::vector<long double> out;
  for (float v : row) {
    long double d = static_cast<long double>(v) - m;
    out.push_back(log ? d - std::log1p(rest) : std::exp(d) / (1 + rest));
  }
  return out;
}

// Rows of 5 along the last axis (opset 13).
void check_rows(const std::vector<std::vector<float>>& rows, double max_ulp) {
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  Tensor x = make_tensor<float>({static_cast<int64_t>(rows.size()), 5}, flat);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    auto out = run_kernel(op, 13, Attributes{}, {&x});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    const float* y = (*out)[0].data<float>();
    double worst = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<long double> ref = ref_softmax(rows[r], std::string(op) == "LogSoftmax");
      for (size_t i = 0; i < 5; ++i) {
        double e = ulp_error<float>(y[r * 5 + i], ref[i]);
        ASSERT_FALSE(std::isinf(e)) << op << " row " << r << " col " << i << ": " << y[r * 5 + i];
        worst = std::max(worst, e);
      }
    }
    std::printf("[ accuracy ] %-10s float worst %.3f ULP\n", op, worst);
    EXPECT_LE(worst, max_ulp) << op;
  }
}

// Measured worst: Softmax 1.06 ULP, LogSoftmax 0.50 ULP (x - max and the sum
// are exact/double before the one rounding to float; Softmax rounds twice).
TEST(Softmax, EdgeRowsAndRandomWithinTwoUlp) {
  const float inf = INFINITY;
  std::vector<std::vector<float>> rows = {
      {1e4f, 0, -1e4f, 1e4f - 1, 9990},       {-inf, 0, 1, -inf, 2},     {FLT_MAX, 0, -FLT_MAX, 1, FLT_MAX},
      {-1e30f, -1e30f, -1e30f, -1e30f, -1e30f}, {1e-30f, -1e-30f, 0, 0, 0}, {100, -100, 20, -20, 1},
      // NaN anywhere in a row makes the whole row NaN (the reference's too), never a finite guess.
      {NAN, 0, 1, 2, 3}, {0, 1, NAN, 2, 3}, {-1e4f, 1e4f, 0, -1, NAN},
  };
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> d(-50, 50);
  for (int i = 0; i < 200; ++i) rows.push_back({d(rng), d(rng), d(rng), d(rng), d(rng)});
  check_rows(rows, 2);
}

TEST(Softmax, AllNegativeInfinityRowIsNaN) {
  // 0/0 as in PyTorch and ORT; documented, not silently 0 or 1/n.
  Tensor x = make_tensor<float>({1, 2}, {-INFINITY, -INFINITY});
  auto out = run_kernel("Softmax", 13, Attributes{}, {&x});
  ASSERT_TRUE(out.is_ok());
  EXPECT_TRUE(std::isnan((*out)[0].data<float>()[0]));
}

TEST(Softmax, Opset11CoercesTo2DOpset13UsesOneAxis) {
  std::vector<float> v = {1, 2, 3, 4};
  Tensor x = make_tensor<float>({1, 2, 2}, v);
  Attributes a;
  a.set("axis", int_attr(1));
  auto old_out = run_kernel("Softmax", 11, a, {&x});
  auto new_out = run_kernel("Softmax", 13, a, {&x});
  ASSERT_TRUE(old_out.is_ok() && new_out.is_ok());
  // Opset 11: one softmax over all 4 values; opset 13: over pairs {1,3} and {2,4}.
  double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0) + std::exp(4.0);
  EXPECT_NEAR((*old_out)[0].data<float>()[0], std::exp(1.0) / s, 1e-7);
  EXPECT_NEAR((*new_out)[0].data<float>()[0], std::exp(1.0) / (std::exp(1.0) + std::exp(3.0)), 1e-7);
}

TEST(Hardmax, OneAtFirstMaximum) {
  Tensor x = make_tensor<float>({2, 3}, {1, 3, 3, -1, -INFINITY, -2});
  auto out = run_kernel("Hardmax", 13, Attributes{}, {&x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>((*out)[0]), (std::vector<float>{0, 1, 0, 1, 0, 0}));
}

}  // namespace
}  // namespace onnx_mini::testing
