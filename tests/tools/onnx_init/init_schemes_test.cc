// Scheme parsing, PyTorch's gain and fan formulas, and the statistics of each scheme.
#include "onnx_init/init_schemes.h"

#include <gtest/gtest.h>

#include <bit>
#include <cctype>
#include <cmath>
#include <vector>

#include "tests/tools/onnx_init/sample_stats.h"

namespace onnx_mini::init {
namespace {

using testing::kNormalKurtosis;
using testing::kUniformKurtosis;
using testing::mean_bound;
using testing::moments_of;
using testing::variance_bound;

InitScheme parse_ok(const std::string& spec) {
  auto s = parse_init_scheme(spec);
  EXPECT_TRUE(s.is_ok()) << spec << ": " << s.status().message();
  return s.is_ok() ? s.value() : InitScheme{};
}

// torch.nn.init.calculate_gain's table (torch 1.13 source): exact values.
TEST(CalculateGain, EqualsPyTorchTable) {
  EXPECT_EQ(calculate_gain("linear").value(), 1.0);
  EXPECT_EQ(calculate_gain("identity").value(), 1.0);
  EXPECT_EQ(calculate_gain("conv2d").value(), 1.0);
  EXPECT_EQ(calculate_gain("conv_transpose3d").value(), 1.0);
  EXPECT_EQ(calculate_gain("sigmoid").value(), 1.0);
  EXPECT_EQ(calculate_gain("tanh").value(), 5.0 / 3);
  EXPECT_EQ(calculate_gain("relu").value(), std::sqrt(2.0));
  EXPECT_EQ(calculate_gain("selu").value(), 3.0 / 4);
  EXPECT_EQ(calculate_gain("leaky_relu").value(), std::sqrt(2.0 / (1 + 0.01 * 0.01)));  // param None -> 0.01
  EXPECT_EQ(calculate_gain("leaky_relu", 0.2).value(), std::sqrt(2.0 / (1 + 0.2 * 0.2)));
  EXPECT_EQ(calculate_gain("leaky_relu", 0.0).value(), std::sqrt(2.0));  // kaiming's default a=0
  // nn.Linear's a = sqrt(5): gain sqrt(1/3), so the bound sqrt(3)*gain/sqrt(fan_in) = 1/sqrt(fan_in).
  EXPECT_NEAR(calculate_gain("leaky_relu", std::sqrt(5.0)).value(), std::sqrt(1.0 / 3.0), 1e-15);
  auto bad = calculate_gain("swish");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUsage);
  EXPECT_NE(bad.status().message().find("swish"), std::string::npos);
}

TEST(Fans, TwoDimensionalIsOutTimesIn) {
  const Fans f = torch_fans({256, 784}).value();
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 256);
}

TEST(Fans, ConvWeightsMultiplyTheReceptiveField) {
  const Fans f = torch_fans({64, 32, 3, 5}).value();  // [out, in, kh, kw]
  EXPECT_EQ(f.fan_in, 32 * 15);
  EXPECT_EQ(f.fan_out, 64 * 15);
  const Fans f1 = torch_fans({8, 4, 7}).value();  // conv1d
  EXPECT_EQ(f1.fan_in, 28);
  EXPECT_EQ(f1.fan_out, 56);
}

TEST(Fans, InOutLayoutReadsTheLastTwoDims) {
  const Fans f = fans_for_layout({784, 256}, WeightLayout::kInOut).value();
  EXPECT_EQ(f.fan_in, 784);
  EXPECT_EQ(f.fan_out, 256);
  const Fans batched = fans_for_layout({4, 10, 20}, WeightLayout::kInOut).value();
  EXPECT_EQ(batched.fan_in, 10);
  EXPECT_EQ(batched.fan_out, 20);
}

TEST(Fans, RefusesFewerThanTwoDimsAndEmptyDims) {
  for (const Shape& shape : {Shape{}, Shape{10}, Shape{0, 5}, Shape{3, 0, 2}}) {
    auto f = torch_fans(shape);
    ASSERT_FALSE(f.is_ok()) << shape_to_string(shape);
    EXPECT_EQ(f.status().code(), ErrorCode::kUsage);
  }
  EXPECT_NE(torch_fans({10}).status().message().find("at least 2 dims"), std::string::npos);
}

TEST(ParseScheme, DefaultsAreTorchDefaults) {
  const InitScheme k = parse_ok("kaiming_normal");
  EXPECT_EQ(k.a, 0.0);
  EXPECT_EQ(k.mode, FanMode::kFanIn);
  EXPECT_EQ(k.nonlinearity, "leaky_relu");
  const InitScheme n = parse_ok("normal");
  EXPECT_EQ(n.mean, 0.0);
  EXPECT_EQ(n.stddev, 1.0);
  const InitScheme u = parse_ok("uniform");
  EXPECT_EQ(u.low, 0.0);
  EXPECT_EQ(u.high, 1.0);
  EXPECT_EQ(parse_ok("xavier_uniform").gain, 1.0);
  EXPECT_EQ(parse_ok("xavier_uniform:tanh").gain, 5.0 / 3);
}

TEST(ParseScheme, CanonicalSpellingRoundTrips) {
  for (const char* spec : {"zeros", "ones", "constant:0.25", "normal:0,0.02", "uniform:-1,1", "xavier_normal:1",
                           "xavier_uniform:1.6666666666666667", "kaiming_normal:0,fan_out,relu",
                           "kaiming_uniform:2.23606797749979,fan_in,leaky_relu"}) {
    EXPECT_EQ(to_string(parse_ok(spec)), spec);
  }
  EXPECT_EQ(to_string(parse_ok("kaiming_normal:0.1")), "kaiming_normal:0.1,fan_in,leaky_relu");
}

TEST(ParseScheme, RejectsNonsenseWithUsageErrors) {
  const char* bad[] = {
      "gaussian",                      // unknown scheme
      "normal:0,-1",                   // std < 0
      "uniform:1,0",                   // a > b
      "uniform:0,inf",                 // not finite
      "normal:0,abc",                  // not a number
      "normal:0,1,2",                  // too many parameters
      "normal:,1",                     // empty parameter
      "constant",                      // missing value
      "zeros:1",                       // takes no parameter
      "kaiming_normal:0,fan_sideways", // unknown mode
      "kaiming_uniform:0,fan_in,swish",// unknown nonlinearity
      "xavier_normal:-1",              // negative gain
      "xavier_normal:wobbly",          // neither number nor nonlinearity
  };
  for (const char* spec : bad) {
    auto s = parse_init_scheme(spec);
    ASSERT_FALSE(s.is_ok()) << spec;
    EXPECT_EQ(s.status().code(), ErrorCode::kUsage) << spec;
  }
}

TEST(Resolve, AppliesPyTorchFormulas) {
  const Fans fans{784, 256};
  auto r = [&](const char* spec) { return resolve(parse_ok(spec), fans).value(); };
  EXPECT_DOUBLE_EQ(r("xavier_normal:2").p2, 2 * std::sqrt(2.0 / (784 + 256)));
  EXPECT_DOUBLE_EQ(r("xavier_uniform").p2, std::sqrt(6.0 / (784 + 256)));
  EXPECT_DOUBLE_EQ(r("kaiming_normal:0,fan_in,relu").p2, std::sqrt(2.0 / 784));
  EXPECT_DOUBLE_EQ(r("kaiming_normal:0,fan_out,relu").p2, std::sqrt(2.0 / 256));
  EXPECT_DOUBLE_EQ(r("kaiming_uniform:0,fan_in,relu").p2, std::sqrt(6.0 / 784));
  EXPECT_DOUBLE_EQ(r("kaiming_uniform:0,fan_in,tanh").p2, std::sqrt(3.0) * (5.0 / 3) / std::sqrt(784.0));
  // nn.Linear's default weight and bias share the bound 1/sqrt(fan_in).
  EXPECT_NEAR(r("kaiming_uniform:2.23606797749979,fan_in,leaky_relu").p2, 1 / std::sqrt(784.0), 1e-15);
  EXPECT_DOUBLE_EQ(torch_default_bias(784).p2, 1 / std::sqrt(784.0));
}

// One case per scheme: draw a [256, 784] weight and compare with the distribution.
struct StatCase {
  const char* spec;
  bool uniform;
};

class SchemeStatistics : public ::testing::TestWithParam<StatCase> {};

TEST_P(SchemeStatistics, MomentsAndBoundsMatchTheDistribution) {
  const Shape shape{256, 784};
  const InitScheme scheme = parse_ok(GetParam().spec);
  const Distribution d = resolve(scheme, torch_fans(shape).value()).value();
  std::vector<float> w(256 * 784);
  Pcg32 rng(2024);
  fill(d, rng, w);
  const auto m = moments_of(w);
  const size_t n = w.size();
  if (GetParam().uniform) {
    const double lo = d.p1, hi = d.p2, sigma = (hi - lo) / std::sqrt(12.0);
    EXPECT_NEAR(m.mean, (lo + hi) / 2, mean_bound(sigma, n));
    EXPECT_NEAR(m.variance, sigma * sigma, variance_bound(sigma, kUniformKurtosis, n));
    for (float v : w) {
      ASSERT_GE(v, lo);
      ASSERT_LT(v, hi);
    }
    const double edge = testing::uniform_edge_fraction(n) * (hi - lo);
    EXPECT_LE(m.min, lo + edge);
    EXPECT_GE(m.max, hi - edge);
  } else {
    const double mu = d.p1, sigma = d.p2;
    EXPECT_NEAR(m.mean, mu, mean_bound(sigma, n));
    EXPECT_NEAR(m.variance, sigma * sigma, variance_bound(sigma, kNormalKurtosis, n));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllRandomSchemes, SchemeStatistics,
    ::testing::Values(StatCase{"normal:0,1", false}, StatCase{"normal:3,0.5", false},
                      StatCase{"uniform:-0.1,0.3", true}, StatCase{"uniform:5,6", true},
                      StatCase{"xavier_normal", false}, StatCase{"xavier_uniform:tanh", true},
                      StatCase{"kaiming_normal:0,fan_in,relu", false},
                      StatCase{"kaiming_normal:0.2,fan_out,leaky_relu", false},
                      StatCase{"kaiming_uniform:0,fan_in,relu", true},
                      StatCase{"kaiming_uniform:2.23606797749979,fan_in,leaky_relu", true}),
    [](const ::testing::TestParamInfo<StatCase>& info) {
      // Test names allow only [A-Za-z0-9_]: "kaiming_normal:0,fan_in,relu" -> "kaiming_normal_0_fan_in_relu".
      std::string name = info.param.spec;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name + "_" + std::to_string(info.index);
    });

// kaiming_uniform with torch's defaults on a [256, 784] weight, seed 1, pinned bit for
// bit (see rng_test.cc).
TEST(Fill, KaimingUniformSamplesArePinned) {
  std::vector<float> w(4);
  Pcg32 rng(1);
  fill(resolve(parse_ok("kaiming_uniform"), Fans{784, 256}).value(), rng, w);
  const uint32_t expected[] = {0xbb9c7578, 0xbd2e28e5, 0xbca8c785, 0xbd3b9cd4};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(std::bit_cast<uint32_t>(w[i]), expected[i]) << i;
}

TEST(Fill, ConstantsAreExact) {
  std::vector<float> w(100);
  Pcg32 rng(0);
  fill(resolve(parse_ok("zeros"), std::nullopt).value(), rng, w);
  for (float v : w) EXPECT_EQ(v, 0.0f);
  fill(resolve(parse_ok("ones"), std::nullopt).value(), rng, w);
  for (float v : w) EXPECT_EQ(v, 1.0f);
  fill(resolve(parse_ok("constant:-0.125"), std::nullopt).value(), rng, w);
  for (float v : w) EXPECT_EQ(v, -0.125f);
}

TEST(Fill, UniformNeverReachesTheUpperBoundEvenWhenFloatRoundingWould) {
  // [1, 1 + 2^-20): many doubles in it round to the float 1 + 2^-20 == high.
  const double lo = 1.0, hi = 1.0 + std::ldexp(1.0, -20);
  std::vector<float> w(100000);
  Pcg32 rng(5);
  fill(Distribution{Distribution::Kind::kUniform, lo, hi}, rng, w);
  for (float v : w) {
    ASSERT_GE(v, lo);
    ASSERT_LT(v, hi);
  }
}

TEST(Fill, NormalWithZeroStdIsTheMean) {
  std::vector<float> w(10);
  Pcg32 rng(0);
  fill(resolve(parse_ok("normal:0.5,0"), std::nullopt).value(), rng, w);
  for (float v : w) EXPECT_EQ(v, 0.5f);
}

TEST(BiasInit, ParsesDefaultKeepAndSchemes) {
  EXPECT_EQ(parse_bias_init("default").value().kind, BiasInit::Kind::kTorchDefault);
  EXPECT_EQ(parse_bias_init("keep").value().kind, BiasInit::Kind::kKeep);
  EXPECT_EQ(to_string(parse_bias_init("normal:0,0.01").value()), "normal:0,0.01");
  EXPECT_EQ(parse_bias_init("nope").status().code(), ErrorCode::kUsage);
}

}  // namespace
}  // namespace onnx_mini::init
