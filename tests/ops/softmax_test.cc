// Softmax / LogSoftmax numerics on huge logits, -inf entries and random rows
// against a long-double reference; opset semantics (coerce-to-2D before 13),
// on the kernel alone and through the loader and a session; Hardmax.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <string>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/node_model.h"

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

// Every output faithfully rounded, within 0.5 + 2^-16 ULP: the kernel works in
// double and rounds each output once (ops/softmax.cc; the dense sweep is
// softmax_sweep_test.cc). Measured worst here: 0.50 ULP for both.
TEST(Softmax, EdgeRowsAndRandomRoundedOnce) {
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
  check_rows(rows, 0.5 + 1.0 / 65536);
}

// Storing exp(x - max) in the float output and scaling it there rounded each
// output twice: 1.48 ULP on this row's second entry (found by a search over
// rows of -1e4 - U(0, 50)). Now each output is within 1 ULP.
TEST(Softmax, RowFarBelowZeroRoundedOnce) {
  const std::vector<float> row = {-10007.9668f, -10022.4619f, -10011.0703f, -10025.9824f, -10006.6094f, -10027.9678f,
                                  -10008.7578f, -10035.2773f, -10025.5381f, -10013.2207f, -10015.5537f, -10039.0566f,
                                  -10041.0566f, -10049.3311f, -10000.2812f, -10027.4482f};
  Tensor x = make_tensor<float>({1, 16}, row);
  auto out = run_kernel("Softmax", 13, Attributes{}, {&x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const std::vector<long double> ref = ref_softmax(row, false);
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_TRUE(faithfully_rounded((*out)[0].data<float>()[i], ref[i]))
        << "class " << i << ": " << (*out)[0].data<float>()[i] << " vs " << static_cast<double>(ref[i]) << " ("
        << ulp_error<float>((*out)[0].data<float>()[i], ref[i]) << " ULP)";
  }
}

// No value for inf - inf: a +inf logit makes the whole row NaN (it used to
// give 0 beside NaN, or -inf beside NaN for LogSoftmax).
TEST(Softmax, PositiveInfinityMakesTheRowNaN) {
  Tensor x = make_tensor<float>({1, 3}, {0.0f, INFINITY, -1.0f});
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    auto out = run_kernel(op, 13, Attributes{}, {&x});
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    for (float v : values_of<float>((*out)[0])) EXPECT_TRUE(std::isnan(v)) << op << ": " << v;
  }
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

// x viewed as [outer, n, inner], normalised along n: ref_softmax on each strided row.
Tensor ref_softmax_along(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  Tensor y = Tensor::allocate(DataType::kDouble, x.shape());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      std::vector<float> row;
      for (int64_t c = 0; c < n; ++c) row.push_back(x.data<float>()[(o * n + c) * inner + i]);
      std::vector<long double> ref = ref_softmax(row, log);
      for (int64_t c = 0; c < n; ++c) y.data<double>()[(o * n + c) * inner + i] = static_cast<double>(ref[c]);
    }
  }
  return y;
}

// The axis rules through the loader and a session: opset 13 normalises one axis,
// opset 11 coerces to 2-D at the axis, the default axis is -1 from 13.
// Tolerance: float32 results against the exact value, atol 1e-4 + rtol 1e-5
// (the sweep above bounds the error at 2 ULP; this checks the axis, not the numerics).
TEST(Softmax, AxisByOpsetThroughASession) {
  Tensor x = random_tensor({2, 3, 4}, 9, -5, 5);
  const Tolerance tol = {.atol = 1e-4, .rtol = 1e-5};
  for (const std::string op : {"Softmax", "LogSoftmax"}) {
    const bool log = op == "LogSoftmax";
    auto axis1 = NodeModel(op, 13).feed(x).attr_int("axis", 1).run();
    ASSERT_TRUE(axis1.is_ok()) << axis1.status().message();
    expect_close(axis1.value()[0], ref_softmax_along(x, 2, 3, 4, log), tol, op + "-13 axis 1");
    // Opset 11, axis 1: the input is coerced to [2, 12] and normalised over 12.
    auto coerced = NodeModel(op, 11).feed(x).attr_int("axis", 1).run();
    ASSERT_TRUE(coerced.is_ok()) << coerced.status().message();
    expect_close(coerced.value()[0], ref_softmax_along(x, 2, 12, 1, log), tol, op + "-11 axis 1");
    auto by_default = NodeModel(op, 13).feed(x).run();
    ASSERT_TRUE(by_default.is_ok()) << by_default.status().message();
    expect_close(by_default.value()[0], ref_softmax_along(x, 6, 4, 1, log), tol, op + "-13 default axis");
  }
}

TEST(Softmax, HugeLogitsStayFiniteAndExactThroughASession) {
  auto out = NodeModel("LogSoftmax", 13).feed(make_tensor({1, 3}, {1e4f, 0.f, -1e4f})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{0.f, -1e4f, -2e4f}));
}

TEST(Hardmax, OneAtFirstMaximum) {
  Tensor x = make_tensor<float>({2, 3}, {1, 3, 3, -1, -INFINITY, -2});
  auto out = run_kernel("Hardmax", 13, Attributes{}, {&x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>((*out)[0]), (std::vector<float>{0, 1, 0, 1, 0, 0}));
}

}  // namespace
}  // namespace onnx_mini::testing
