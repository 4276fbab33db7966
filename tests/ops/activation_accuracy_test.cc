// Accuracy sweep: every activation on the edge-case grid plus seeded random
// values, float and double, against a long-double reference of the spec's
// formula. No NaN/Inf where the exact (correctly rounded) result is finite,
// and the worst ULP error stays within a stated bound.
//
// Measured worst case (GCC 12 + glibc 2.36, x86-64), in ULP, float / double:
//   Relu 0/0, Sigmoid 1.81/2.02, Tanh 1.62/1.52, LeakyRelu 0.50/0.50,
//   Elu 0.67/0.67, Selu 1.45/1.67, Celu 0.67/0.67, HardSigmoid 0.50/0.50,
//   HardSwish 1.66/1.27, Softplus 1.16/1.23, Softsign 1.40/1.34,
//   ThresholdedRelu 0/0, PRelu 0.50/0.50, Mish 0.50/0.50, Gelu 0.50/1.10,
//   Gelu(tanh) 0.50/0.50. Softmax/LogSoftmax: softmax_test.cc; losses:
//   loss_accuracy_test.cc.
// (The test prints the current numbers.) Bounds: 0 for the exact selects,
// 2 ULP for one libm call plus one rounding, 3 for composed formulas
// (Sigmoid, Selu, Celu, HardSwish, Softplus) to leave room for other libms.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <string>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/kernel_runner.h"

namespace onnx_mini::testing {
namespace {

using LD = long double;

struct Case {
  std::string op;
  int opset;
  Attributes attrs;
  std::function<LD(LD)> ref;  // the spec's formula, in long double
  double max_ulp;
  float slope = 0;  // PRelu only: the slope, fed as a second input of shape [1]
};

LD ref_softplus(LD x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

std::vector<Case> cases() {
  const LD alpha_selu = 1.67326319217681884765625L, gamma_selu = 1.05070102214813232421875L;
  Attributes none;
  Attributes gelu_tanh;
  gelu_tanh.set("approximate", string_attr("tanh"));
  Attributes leaky;  // a non-default alpha exercises the attribute
  leaky.set("alpha", float_attr(0.1f));
  // HardSigmoid's reference uses the float-rounded alpha/beta the kernel sees;
  // its error is one float multiply-add (<= 1 ULP), more near v = 0 where
  // alpha*x + beta cancels (the rounding of alpha*x is relative to x).
  const LD hs_alpha = 0.2f, hs_beta = 0.5f;
  return {
      {"Relu", 14, none, [](LD x) { return x < 0 ? 0 : x; }, 0},
      {"Sigmoid", 13, none, [](LD x) { return 1 / (1 + std::exp(-x)); }, 3},
      {"Tanh", 13, none, [](LD x) { return std::tanh(x); }, 2},
      {"LeakyRelu", 16, leaky, [](LD x) { return x < 0 ? LD(0.1f) * x : x; }, 2},
      {"Elu", 6, none, [](LD x) { return x < 0 ? std::expm1(x) : x; }, 2},
      {"Selu", 6, none,
       [=](LD x) { return x <= 0 ? gamma_selu * alpha_selu * std::expm1(x) : gamma_selu * x; }, 3},
      {"Celu", 12, none, [](LD x) { return x < 0 ? std::expm1(x) : x; }, 3},
      {"HardSigmoid", 6, none,
       [=](LD x) { return std::isnan(x) ? x : std::clamp(hs_alpha * x + hs_beta, LD(0), LD(1)); }, 2},
      {"HardSwish", 14, none, [](LD x) { return x <= -3 ? 0 : (x >= 3 ? x : x * (x + 3) / 6); }, 3},
      {"Softplus", 1, none, ref_softplus, 3},
      {"Softsign", 1, none, [](LD x) { return std::isinf(x) ? std::copysign(LD(1), x) : x / (1 + std::fabs(x)); }, 2},
      {"ThresholdedRelu", 10, none, [](LD x) { return x <= 1 ? 0 : x; }, 0},
      {"PRelu", 16, none, [](LD x) { return x < 0 ? LD(0.1f) * x : x; }, 2, 0.1f},
      {"Mish", 18, none, [](LD x) { return std::isinf(x) && x < 0 ? 0 : x * std::tanh(ref_softplus(x)); }, 2},
      {"Gelu", 20, none,
       [](LD x) { return std::isinf(x) && x < 0 ? 0 : x / 2 * std::erfc(-x / std::sqrt(LD(2))); }, 2},
      {"Gelu", 20, gelu_tanh,
       [](LD x) {
         // x/2 (1 + tanh u) = x / (1 + e^{-2u}); the naive 1 + tanh(u) cancels in long double too.
         LD u = 0.79788456080286535587989211986876L *  // sqrt(2/pi)
                  (x + 0.044715L * x * x * x);
         return std::isinf(x) && x < 0 ? 0 : x / (1 + std::exp(-2 * u));
       },
       2},
  };
}

template <typename T>
void sweep(const Case& c) {
  std::vector<T> grid = sweep_grid<T>();
  Tensor x = make_tensor<T>({static_cast<int64_t>(grid.size())}, grid);
  Tensor slope = make_tensor<T>({1}, {static_cast<T>(c.slope)});
  auto out = run_kernel(c.op, c.opset, c.attrs, c.op == "PRelu" ? std::vector<const Tensor*>{&x, &slope}
                                                             : std::vector<const Tensor*>{&x});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const T* y = (*out)[0].data<T>();
  double worst = 0;
  T worst_x = 0;
  for (size_t i = 0; i < grid.size(); ++i) {
    // The reference sees the exact input; params are the float attribute values.
    LD ref = c.ref(static_cast<LD>(grid[i]));
    double e = ulp_error<T>(y[i], ref);
    ASSERT_FALSE(std::isinf(e)) << c.op << "(" << grid[i] << ") = " << y[i] << ", expected " << static_cast<double>(ref);
    if (e > worst) {
      worst = e;
      worst_x = grid[i];
    }
  }
  std::printf("[ accuracy ] %-16s %-6s worst %.3f ULP at x = %.9g\n",
              (c.op + (c.attrs.has("approximate") ? "(tanh)" : "")).c_str(),
              std::is_same_v<T, float> ? "float" : "double", worst, static_cast<double>(worst_x));
  EXPECT_LE(worst, c.max_ulp) << c.op << " worst at x = " << worst_x;
}

TEST(ActivationAccuracy, FloatWithinStatedUlp) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.op);
    sweep<float>(c);
  }
}

// long double has only 11 more bits than double, so the double measurement is
// accurate to ~1/1000 ULP: enough to see a formula losing precision.
TEST(ActivationAccuracy, DoubleWithinStatedUlp) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.op);
    sweep<double>(c);
  }
}

}  // namespace
}  // namespace onnx_mini::testing
