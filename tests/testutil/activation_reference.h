// The unary activations as the accuracy tests see them: each op with the
// attributes it is checked at, the spec's formula in long double as the
// reference, and a runner for the standalone kernel. Shared by the grid test
// (tests/ops/activation_accuracy_test.cc), the dense sweep
// (tests/ops/activation_sweep_test.cc) and the exhaustive check over every
// float (tests/ops/activation_exhaustive.cc).
//
// Why long double (x87, 64-bit significand) is a good enough reference: every
// formula below is written without cancellation, so it is within a few long
// double roundings and glibc's long double libm errors (a few units of 2^-64)
// of the exact value, i.e. within ~2^-60 relative. For a float result that is
// 2^-36 float ULP: the ULP errors printed are right to ~1e-10, and a result is
// misjudged faithful or not only if the exact value lies within 2^-36 ULP of a
// float, which for these transcendental formulas at float arguments happens
// only where the value is exact (0, 1, x itself), and there the reference is
// exact too. tests/ops/check_reference_mpmath.py spot-checks it against mpmath.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/kernel_runner.h"

namespace onnx_mini::testing {

// Claimed worst errors of the float paths, in ULP (every result is also
// checked to be faithfully rounded):
// - kExactSelect: the result is x or a constant;
// - kOneFloatRounding: one float operation, correctly rounded (alpha * x);
// - kRoundedOnceFromDouble: the formula in double (ops/vecmath.h, relative
//   error < 2^-44 times a few roundings) rounded once to float, i.e. within
//   0.5 + 2^-20 ULP per 2^-44; 2^-16 leaves room for a factor 16 and for the
//   reference's ~2^-36 ULP.
inline constexpr double kExactSelect = 0.0;
inline constexpr double kOneFloatRounding = 0.5;
inline constexpr double kRoundedOnceFromDouble = 0.5 + 1.0 / 65536;

// The spec's formula, as the reference in long double and, for the fast path
// of the exhaustive check, the same expression in double.
struct Formula {
  std::function<long double(long double)> in_long_double;
  std::function<double(double)> in_double;
  template <typename F>
  Formula(F f) : in_long_double(f), in_double(f) {}  // NOLINT: built from a generic lambda
  long double operator()(long double x) const { return in_long_double(x); }
};

struct ActivationCase {
  std::string label;  // op, and the attribute that differs from the default
  std::string op;
  int opset = 0;
  Attributes attrs;
  Formula ref;  // of the exact input
  double float_max_ulp = kRoundedOnceFromDouble;
  // The double paths use the C library: 2 ULP for one libm call plus one
  // rounding, 3 for composed formulas, to leave room for other libms.
  double double_max_ulp = 2;
  float slope = 0;  // PRelu only: fed as a second input of shape [1]
};

template <typename T>
T ref_softplus(T x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// Each formula is a generic lambda (T = long double or double), written
// without cancellation; constants enter as T(...).
inline std::vector<ActivationCase> activation_cases() {
  using LD = long double;
  const LD alpha_selu = 1.67326319217681884765625L, gamma_selu = 1.05070102214813232421875L;
  Attributes none;
  Attributes gelu_tanh;
  gelu_tanh.set("approximate", string_attr("tanh"));
  Attributes leaky;  // a non-default alpha exercises the attribute
  leaky.set("alpha", float_attr(0.1f));
  Attributes celu;  // an alpha that makes x / alpha round
  celu.set("alpha", float_attr(0.3f));
  // The references use the float-rounded attribute values the kernel sees.
  const float celu_alpha = 0.3f, hs_alpha = 0.2f, hs_beta = 0.5f, leaky_alpha = 0.1f;
  return {
      {"Relu", "Relu", 14, none, [](auto x) { return x < 0 ? 0 : x; }, kExactSelect, 0},
      {"Sigmoid", "Sigmoid", 13, none, [](auto x) { return 1 / (1 + std::exp(-x)); }, kRoundedOnceFromDouble, 3},
      {"Tanh", "Tanh", 13, none, [](auto x) { return std::tanh(x); }},
      {"LeakyRelu", "LeakyRelu", 16, leaky,
       [=](auto x) { return x < 0 ? decltype(x)(leaky_alpha) * x : x; }, kOneFloatRounding},
      {"Elu", "Elu", 6, none, [](auto x) { return x < 0 ? std::expm1(x) : x; }},
      {"Selu", "Selu", 6, none,
       [=](auto x) {
         using T = decltype(x);
         return x <= 0 ? T(gamma_selu * alpha_selu) * std::expm1(x) : T(gamma_selu) * x;
       },
       kRoundedOnceFromDouble, 3},
      {"Celu", "Celu", 12, none, [](auto x) { return x < 0 ? std::expm1(x) : x; }, kRoundedOnceFromDouble, 3},
      {"Celu(alpha=0.3)", "Celu", 12, celu,
       [=](auto x) {
         using T = decltype(x);
         return x < 0 ? T(celu_alpha) * std::expm1(x / T(celu_alpha)) : x;
       },
       kRoundedOnceFromDouble, 3},
      {"HardSigmoid", "HardSigmoid", 6, none,
       [=](auto x) {
         using T = decltype(x);
         return std::isnan(x) ? x : std::clamp(T(hs_alpha) * x + T(hs_beta), T(0), T(1));
       }},
      {"HardSwish", "HardSwish", 14, none,
       [](auto x) { return x <= -3 ? 0 : (x >= 3 ? x : x * (x + 3) / 6); }, kRoundedOnceFromDouble, 3},
      {"Softplus", "Softplus", 1, none, [](auto x) { return ref_softplus(x); }, kRoundedOnceFromDouble, 3},
      {"Softsign", "Softsign", 1, none,
       [](auto x) {
         using T = decltype(x);
         return std::isinf(x) ? std::copysign(T(1), x) : x / (1 + std::fabs(x));
       }},
      {"ThresholdedRelu", "ThresholdedRelu", 10, none, [](auto x) { return x <= 1 ? 0 : x; }, kExactSelect, 0},
      {"PRelu", "PRelu", 16, none, [=](auto x) { return x < 0 ? decltype(x)(leaky_alpha) * x : x; },
       kOneFloatRounding, 2, 0.1f},
      {"Mish", "Mish", 18, none,
       [](auto x) { return std::isinf(x) && x < 0 ? 0 : x * std::tanh(ref_softplus(x)); }},
      {"Gelu", "Gelu", 20, none,
       [](auto x) {
         using T = decltype(x);
         return std::isinf(x) && x < 0 ? 0 : x / 2 * std::erfc(-x / std::sqrt(T(2)));
       }},
      {"Gelu(tanh)", "Gelu", 20, gelu_tanh,
       [](auto x) {
         using T = decltype(x);
         // x/2 (1 + tanh u) = x / (1 + e^{-2u}); the naive 1 + tanh(u) cancels in long double too.
         const T u = T(0.79788456080286535587989211986876L) *  // sqrt(2/pi)
                     (x + T(0.044715L) * x * x * x);
         return std::isinf(x) && x < 0 ? 0 : x / (1 + std::exp(-2 * u));
       }},
  };
}

// Runs the case's standalone kernel on x (float or double, any shape).
inline Result<std::vector<Tensor>> run_activation(const ActivationCase& c, const Tensor& x) {
  Tensor slope = Tensor::allocate(x.dtype(), {1});
  if (x.dtype() == DataType::kFloat) slope.data<float>()[0] = c.slope;
  if (x.dtype() == DataType::kDouble) slope.data<double>()[0] = c.slope;
  const std::vector<const Tensor*> inputs =
      c.op == "PRelu" ? std::vector<const Tensor*>{&x, &slope} : std::vector<const Tensor*>{&x};
  return run_kernel(c.op, c.opset, c.attrs, inputs);
}

}  // namespace onnx_mini::testing
