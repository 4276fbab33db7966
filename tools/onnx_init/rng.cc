#include "onnx_init/rng.h"

#include <cmath>

namespace onnx_mini::init {

namespace {
constexpr uint64_t kPcgMultiplier = 6364136223846793005ULL;
constexpr double kTwoPowMinus53 = 1.0 / 9007199254740992.0;  // 2^-53
constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kSqrtHalf = 0.707106781186547524400844362104849039;
}  // namespace

// Seeding follows the reference pcg32_srandom_r so the sequence for a seed is the
// documented one (useful if someone re-implements it elsewhere).
Pcg32::Pcg32(uint64_t seed, uint64_t stream) : increment_((stream << 1u) | 1u) {
  next_u32();
  state_ += seed;
  next_u32();
}

uint32_t Pcg32::next_u32() {
  const uint64_t old = state_;
  state_ = old * kPcgMultiplier + increment_;
  const auto xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  const auto rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

double Pcg32::uniform01() {
  const uint64_t hi = next_u32();
  const uint64_t lo = next_u32();
  const uint64_t bits53 = ((hi << 32u) | lo) >> 11u;
  return static_cast<double>(bits53) * kTwoPowMinus53;  // exact: 53-bit integer * 2^-53
}

double Pcg32::standard_normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  // Polar method: a point uniform in the unit disc (rejection, acceptance pi/4)
  // gives two independent normals without sin/cos.
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * uniform01() - 1.0;
    v = 2.0 * uniform01() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * deterministic_log(s) / s);
  spare_normal_ = v * factor;
  has_spare_normal_ = true;
  return u * factor;
}

double deterministic_log(double x) {
  // frexp and ldexp are exact (they only move the exponent).
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // m in [0.5, 1)
  if (m < kSqrtHalf) {
    m = std::ldexp(m, 1);
    exponent -= 1;
  }
  // m in [sqrt(1/2), sqrt(2)): t in about [-0.172, 0.172], t^2 < 0.0295, so 22
  // terms of the series reach far below double precision.
  const double t = (m - 1.0) / (m + 1.0);
  const double t2 = t * t;
  double term = t;
  double sum = 0.0;
  for (int k = 1; k <= 43; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2.0 * sum + exponent * kLn2;
}

}  // namespace onnx_mini::init
