// ops/vecmath.h against long double expl / expm1l / log1pl (within a few
// 2^-64): the relative error bounds its comments state, over dense sweeps of
// the argument ranges the float paths use, with extra points on both sides of
// every step of the range reduction (where |r| is largest), and the values it
// promises outside them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "ops/vecmath.h"

namespace onnx_mini {
namespace {

constexpr double kLn2 = 0.69314718055994530942;

long double relative_error(double got, long double want) {
  return want == 0 ? std::fabs(static_cast<long double>(got)) : std::fabs((got - want) / want);
}

// Evenly spaced points of [lo, hi], plus 64 doubles on each side of every
// (n + 1/2) ln 2 inside it.
std::vector<double> arguments(double lo, double hi, int count) {
  std::vector<double> x;
  for (int i = 0; i <= count; ++i) x.push_back(lo + (hi - lo) * i / count);
  for (int n = -1100; n <= 1100; ++n) {
    const double edge = (n + 0.5) * kLn2;
    if (edge < lo || edge > hi) continue;
    double below = edge, above = edge;
    for (int k = 0; k < 64; ++k) {
      x.push_back(below = std::nextafter(below, -INFINITY));
      x.push_back(above = std::nextafter(above, INFINITY));
    }
  }
  return x;
}

template <typename F, typename Ref>
double worst_relative_error(const std::vector<double>& x, F f, Ref ref) {
  long double worst = 0;
  for (double v : x) worst = std::max(worst, relative_error(f(v), ref(static_cast<long double>(v))));
  return static_cast<double>(worst);
}

TEST(Vecmath, ExpWithinTwoToMinus45) {
  const double worst = worst_relative_error(arguments(-708, 708, 2000000), vecmath::exp, [](long double v) { return std::exp(v); });
  std::printf("[ vecmath ] exp worst relative error 2^%.2f\n", std::log2(worst));
  EXPECT_LT(worst, std::ldexp(1.0, -45));
}

TEST(Vecmath, Expm1WithinTwoToMinus44IncludingTinyArguments) {
  std::vector<double> x = arguments(-708, 708, 2000000);
  for (int e = -1074; e <= 0; ++e) {
    x.push_back(std::ldexp(1.0, e));
    x.push_back(-std::ldexp(1.3, e));
  }
  const double worst = worst_relative_error(x, vecmath::expm1, [](long double v) { return std::expm1(v); });
  std::printf("[ vecmath ] expm1 worst relative error 2^%.2f\n", std::log2(worst));
  EXPECT_LT(worst, std::ldexp(1.0, -44));
}

// Down to e = 2^-1020: below, s = e / 2 is a subnormal double and loses
// bits, but softplus's e = exp(-|x|) is 0 there (exp's cut at -708).
TEST(Vecmath, Log1pUnitWithinTwoToMinus49) {
  std::vector<double> x = arguments(0, 1, 2000000);
  for (int e = -1020; e <= 0; ++e) x.push_back(std::ldexp(1.0, e));
  const double worst = worst_relative_error(x, vecmath::log1p_unit, [](long double v) { return std::log1p(v); });
  std::printf("[ vecmath ] log1p_unit worst relative error 2^%.2f\n", std::log2(worst));
  EXPECT_LT(worst, std::ldexp(1.0, -49));
}

TEST(Vecmath, ValuesOutsideTheRange) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(vecmath::exp(-inf), 0.0);
  EXPECT_EQ(vecmath::exp(-708.5), 0.0);
  EXPECT_EQ(vecmath::exp(708.5), inf);
  EXPECT_EQ(vecmath::exp(inf), inf);
  EXPECT_EQ(vecmath::exp(0.0), 1.0);
  EXPECT_TRUE(std::isnan(vecmath::exp(std::nan(""))));
  EXPECT_EQ(vecmath::expm1(-inf), -1.0);
  EXPECT_EQ(vecmath::expm1(inf), inf);
  EXPECT_EQ(vecmath::expm1(0.0), 0.0);
  EXPECT_TRUE(std::isnan(vecmath::expm1(std::nan(""))));
  EXPECT_EQ(vecmath::log1p_unit(0.0), 0.0);
  EXPECT_TRUE(std::isnan(vecmath::log1p_unit(std::nan(""))));
}

}  // namespace
}  // namespace onnx_mini
