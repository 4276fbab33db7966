// Dense accuracy sweep of every unary activation's float path (label `sweep`:
// seconds in Release, too slow under the sanitizers, so CI's sanitizer pass
// leaves it out). Per activation about 4.5 million inputs:
// - 2^16 consecutive floats on each side of every transition: where the
//   formula changes arm, where the result turns subnormal, 0, ±1 or x, and
//   the points where ops/vecmath.h's range reduction steps (its polynomial is
//   least accurate there), 2^8 on each side of each of those;
// - every 1024th float of magnitude up to 256 (8192 per binade, both signs);
// - every 65521st bit pattern (all exponents, infinities, NaN payloads) and
//   2^20 seeded random bit patterns.
// Every result must be faithfully rounded (within 1 ULP of the exact value:
// the functors' promise) and the worst error within the case's bound
// (tests/testutil/activation_reference.h gives each bound and its reason).
// The same check over all 2^32 floats is tests/ops/activation_exhaustive.cc.
//
// Measured worst case (GCC 12 + glibc 2.36, x86-64), float, in ULP, and how
// many results were not the correctly rounded float: see the README's table;
// the test prints both for every activation.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/testutil/accuracy.h"
#include "tests/testutil/activation_reference.h"

namespace onnx_mini::testing {
namespace {

constexpr double kLn2 = 0.69314718055994530942;

// Where each case's result changes character (approximate values: the window
// of 2^16 floats on each side is wide enough to contain the exact point):
// ln(FLT_MIN) = -87.3365 (results turn subnormal), ln(denorm_min) = -103.279
// and -103.972 (they turn 0), 25 ln 2 = 17.3287 (1 - e^-x rounds to 1), 13 ln 2
// = 9.0109 (tanh rounds to 1), asinh-free softplus split -ln(sqrt2 - 1) =
// 0.8814 (log1p_unit halves), and the caps of the float paths (20 for tanh,
// 708 for exp).
struct Transitions {
  std::vector<float> points;
  double reduction_scale = 0;  // x * scale is the argument of vecmath's exp; 0: none
};

std::map<std::string, Transitions> transitions() {
  const std::vector<float> exp_tail = {-87.3365f, -103.279f, -103.972f, 17.3287f, 708.0f, -708.0f};
  auto with = [](std::vector<float> a, const std::vector<float>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  return {
      {"Relu", {{0.0f}}},
      {"Sigmoid", {with(exp_tail, {-17.3287f}), -1.0}},
      {"Tanh", {{9.0109f, -9.0109f, 20.0f, -20.0f, 0.5f, -0.5f}, -2.0}},
      {"LeakyRelu", {{0.0f}}},
      {"Elu", {{-17.3287f, -16.6355f, -708.0f}, 1.0}},
      {"Selu", {{-17.3287f, -16.6355f, -708.0f}, 1.0}},
      {"Celu", {{-17.3287f, -16.6355f, -708.0f}, 1.0}},
      {"Celu(alpha=0.3)", {{-5.19862f, -4.99066f, -212.4f}, 1.0 / 0.3}},
      {"HardSigmoid", {{-2.5f, 2.5f}}},
      {"HardSwish", {{-3.0f, 3.0f}}},
      {"Softplus", {with(exp_tail, {0.881374f, -0.881374f, 14.5561f, 15.9424f, 16.0f}), -1.0}},
      {"Softsign", {{1.0f, -1.0f}}},
      {"ThresholdedRelu", {{1.0f}}},
      {"PRelu", {{0.0f}}},
      {"Mish", {with(exp_tail, {-17.3287f}), -1.0}},
      {"Gelu", {{-5.0f, -10.0f, -13.0f, -14.0f, 6.0f}}},
      {"Gelu(tanh)", {{-5.0f, -10.0f, -13.0f, -14.0f, 6.0f}}},
  };
}

// `count` consecutive floats on each side of x (by bit pattern, so across 0
// and across binades).
void add_window(std::vector<float>& out, float x, int count) {
  float lo = x, hi = x;
  for (int i = 0; i < count; ++i) {
    out.push_back(lo);
    out.push_back(hi);
    lo = std::nextafter(lo, -INFINITY);
    hi = std::nextafter(hi, INFINITY);
  }
}

std::vector<float> sweep_inputs(const Transitions& t) {
  std::vector<float> x;
  for (float p : {0.0f, 1.17549435e-38f, -1.17549435e-38f, 3.4e38f, -3.4e38f}) add_window(x, p, 1 << 16);
  for (float p : t.points) add_window(x, p, 1 << 16);
  if (t.reduction_scale != 0) {
    // vecmath's exp(s * x) switches from n to n + 1 at s * x = (n + 1/2) ln 2.
    for (int n = -160; n <= 160; ++n) add_window(x, static_cast<float>((n + 0.5) * kLn2 / t.reduction_scale), 1 << 8);
  }
  const uint32_t bits256 = std::bit_cast<uint32_t>(256.0f);
  for (uint32_t b = 0; b <= bits256; b += 1024) {
    x.push_back(std::bit_cast<float>(b));
    x.push_back(-std::bit_cast<float>(b));
  }
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 65521) x.push_back(std::bit_cast<float>(static_cast<uint32_t>(b)));
  std::mt19937 rng(20240607);  // fixed seed: failures must reproduce
  for (int i = 0; i < (1 << 20); ++i) x.push_back(std::bit_cast<float>(static_cast<uint32_t>(rng())));
  return x;
}

class ActivationSweep : public ::testing::TestWithParam<std::string> {};

TEST_P(ActivationSweep, FaithfullyRoundedEverywhere) {
  const std::vector<ActivationCase> cases = activation_cases();
  const ActivationCase* c = nullptr;
  for (const ActivationCase& candidate : cases) c = candidate.label == GetParam() ? &candidate : c;
  ASSERT_NE(c, nullptr);
  const std::map<std::string, Transitions> all = transitions();
  ASSERT_TRUE(all.count(c->label)) << "no transitions listed for " << c->label;
  const std::vector<float> inputs = sweep_inputs(all.at(c->label));
  Tensor x = make_tensor<float>({static_cast<int64_t>(inputs.size())}, inputs);
  auto out = run_activation(*c, x);
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const float* y = (*out)[0].data<float>();
  double worst = 0;
  float worst_x = 0;
  int64_t not_nearest = 0, not_faithful = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const long double ref = c->ref(static_cast<long double>(inputs[i]));
    if (!faithfully_rounded(y[i], ref)) {
      if (++not_faithful <= 5) {
        ADD_FAILURE() << c->label << "(" << inputs[i] << " = 0x" << std::hex << std::bit_cast<uint32_t>(inputs[i])
                      << std::dec << ") = " << y[i] << ", exact " << static_cast<double>(ref);
      }
    }
    not_nearest += !correctly_rounded(y[i], ref);
    const double e = ulp_error<float>(y[i], ref);
    if (e > worst) {
      worst = e;
      worst_x = inputs[i];
    }
  }
  std::printf("[ sweep ] %-16s %zu inputs: worst %.8f ULP at x = %.9g (0x%08x), %lld not correctly rounded\n",
              c->label.c_str(), inputs.size(), worst, static_cast<double>(worst_x), std::bit_cast<uint32_t>(worst_x),
              static_cast<long long>(not_nearest));
  EXPECT_EQ(not_faithful, 0) << c->label;
  EXPECT_LE(worst, c->float_max_ulp) << c->label << " worst at x = " << worst_x;
}

std::vector<std::string> labels() {
  std::vector<std::string> out;
  for (const ActivationCase& c : activation_cases()) out.push_back(c.label);
  return out;
}

// Test names without the parentheses of "Celu(alpha=0.3)" and "Gelu(tanh)".
std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char ch : info.param) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryActivation, ActivationSweep, ::testing::ValuesIn(labels()), test_name);

}  // namespace
}  // namespace onnx_mini::testing
