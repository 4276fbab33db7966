// Accuracy on the edge-case grid: every activation on ±1e-30 ... ±FLT_MAX,
// ±Inf, NaN, denormals and seeded random values, float and double, against a
// long-double reference of the spec's formula (tests/testutil/
// activation_reference.h, which also states each bound and why). Float results
// must be faithfully rounded and within the case's bound; no NaN or Inf where
// the exact result is finite. The dense sweep over millions of inputs per
// activation is activation_sweep_test.cc; every float input,
// activation_exhaustive.cc.
//
// Measured worst case on this grid (GCC 12 + glibc 2.36, x86-64), double, in
// ULP: Relu 0, Sigmoid 2.02, Tanh 1.52, LeakyRelu 0.50, Elu 0.67, Selu 1.67,
// Celu 0.67, Celu(alpha=0.3) 0.89, HardSigmoid 0.50, HardSwish 1.27,
// Softplus 1.23, Softsign 1.34, ThresholdedRelu 0, PRelu 0.50, Mish 0.50,
// Gelu 1.10, Gelu(tanh) 0.50. Float: see the sweep. (The test prints both.)
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/activation_reference.h"

namespace onnx_mini::testing {
namespace {

template <typename T>
void check_grid(const ActivationCase& c) {
  std::vector<T> grid = sweep_grid<T>();
  Tensor x = make_tensor<T>({static_cast<int64_t>(grid.size())}, grid);
  auto out = run_activation(c, x);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const T* y = (*out)[0].data<T>();
  const bool is_float = std::is_same_v<T, float>;
  double worst = 0;
  T worst_x = 0;
  for (size_t i = 0; i < grid.size(); ++i) {
    const long double ref = c.ref(static_cast<long double>(grid[i]));
    const double e = ulp_error<T>(y[i], ref);
    ASSERT_FALSE(std::isinf(e)) << c.label << "(" << grid[i] << ") = " << y[i] << ", expected " << static_cast<double>(ref);
    if (is_float) {
      ASSERT_TRUE(faithfully_rounded<T>(y[i], ref)) << c.label << "(" << grid[i] << ") = " << y[i] << ", exact "
                                                   << static_cast<double>(ref);
    }
    if (e > worst) {
      worst = e;
      worst_x = grid[i];
    }
  }
  std::printf("[ accuracy ] %-16s %-6s worst %.6f ULP at x = %.9g\n", c.label.c_str(), is_float ? "float" : "double",
              worst, static_cast<double>(worst_x));
  EXPECT_LE(worst, is_float ? c.float_max_ulp : c.double_max_ulp) << c.label << " worst at x = " << worst_x;
}

TEST(ActivationAccuracy, FloatFaithfulOnTheGrid) {
  for (const ActivationCase& c : activation_cases()) {
    SCOPED_TRACE(c.label);
    check_grid<float>(c);
  }
}

// long double has only 11 more bits than double, so the double measurement is
// accurate to ~1/1000 ULP: enough to see a formula losing precision.
TEST(ActivationAccuracy, DoubleWithinStatedUlpOnTheGrid) {
  for (const ActivationCase& c : activation_cases()) {
    SCOPED_TRACE(c.label);
    check_grid<double>(c);
  }
}

}  // namespace
}  // namespace onnx_mini::testing
