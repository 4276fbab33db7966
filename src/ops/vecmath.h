// exp, expm1 and log1p in double precision written as straight-line code (no
// calls, no branches, no table lookups), so that a loop applying them element
// by element vectorises with plain SSE2, the x86-64 baseline the project builds
// for (no -march).
//
// They serve the float paths of the activations, softmax and losses, which
// evaluate a formula in double and round once to float. A double result within
// relative error d of the exact value rounds to a float within 0.5 + d * 2^24
// ULP of it (one float ULP is at least 2^-24 of the value), so with d < 2^-44
// (the bounds below, from the truncated series plus a few double roundings)
// such a float result is faithfully rounded, within 1 ULP with a margin of
// 2^-20 ULP, and correctly rounded unless the exact value lies within that
// margin of a midpoint between two floats.
//
// Tuned for results that end as float: exp returns 0 below -708 and +inf above
// 708 (what rounding e^-708 = 3.3e-308 and e^708 = 3.0e307 to float gives),
// expm1 returns -1 and +inf there; NaN in, NaN out.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace onnx_mini::vecmath {

// e^x = 2^n * (1 + m) with n = round(x / ln 2), r = x - n ln 2 (|r| <= ln 2 / 2
// up to one rounding of x / ln 2) and m = e^r - 1 from its Taylor series to
// r^11: the truncation is below r^12 / 12! / |r| < 2^-45.6 relative to m.
// r carries no rounding error of note: ln 2 is split in a 32-bit head (n * head
// and x - n * head are exact for |n| < 2^21) and a tail. Valid for |x| <= 708
// (2^n is a normal double); callers select their own value outside.
struct ExpSplit {
  double scale;  // 2^n
  double m;      // e^r - 1, |m| < 0.42
};

inline ExpSplit exp_split(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  // Adding 1.5 * 2^52 rounds to an integer and leaves it, two's complement, in
  // the low mantissa bits; subtracting it again gives n as a double.
  constexpr double kShifter = 0x1.8p52;
  constexpr double kLn2Hi = 0x1.62e42feep-1;
  constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;
  const double shifted = x * kLog2e + kShifter;
  const double n = shifted - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  // q = 1/2! + r/3! + ... + r^9/11! by Estrin's scheme: pairs first, then
  // powers of r^2. Horner's chain of ten dependent multiply-adds made the
  // loops latency-bound (20 % slower, measured).
  const double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
  const double c23 = 1.0 / 2 + r * (1.0 / 6), c45 = 1.0 / 24 + r * (1.0 / 120);
  const double c67 = 1.0 / 720 + r * (1.0 / 5040), c89 = 1.0 / 40320 + r * (1.0 / 362880);
  const double c1011 = 1.0 / 3628800 + r * (1.0 / 39916800);
  const double q = (c23 + r2 * c45) + r4 * (c67 + r2 * c89) + r8 * c1011;
  const double m = r + r2 * q;
  // The low 12 bits of `shifted` hold n mod 4096; moved into the exponent field
  // and biased, they are 2^n for n in [-1022, 1023] (integer shifts and adds,
  // which SSE2 has for 64-bit lanes, unlike a double -> int64 conversion).
  const uint64_t bits = (std::bit_cast<uint64_t>(shifted) << 52) + (uint64_t{1023} << 52);
  return {std::bit_cast<double>(bits), m};
}

inline constexpr double kExpLimit = 708.0;

// e^x, relative error < 2^-45 for |x| <= 708.
inline double exp(double x) {
  const ExpSplit s = exp_split(x);
  const double e = s.scale + s.scale * s.m;
  const double above = x > kExpLimit ? std::numeric_limits<double>::infinity() : e;
  return x < -kExpLimit ? 0.0 : above;
}

// e^x - 1 with full relative precision near 0: 2^n * m + (2^n - 1), where
// 2^n - 1 is exact and for n = 0 the result is m itself. The two terms cancel
// at most by a factor 4 (n = 1, m = -0.29), so the relative error stays < 2^-44.
inline double expm1(double x) {
  const ExpSplit s = exp_split(x);
  const double e = s.scale * s.m + (s.scale - 1.0);
  const double above = x > kExpLimit ? std::numeric_limits<double>::infinity() : e;
  return x < -kExpLimit ? -1.0 : above;
}

// log(1 + e) for e in [0, 1] (what softplus needs: e = exp(-|x|)), relative
// error < 2^-49 for e >= 2^-1020 (below, s is a subnormal double; exp above
// gives 0 there). log(1 + e) = 2 atanh(s) with s = e / (2 + e); above
// e = sqrt 2 - 1 the argument is halved first, log(1 + e) = ln 2 + 2 atanh(s)
// with s = (e - 1) / (e + 3), so |s| <= 3 - 2 sqrt 2 = 0.1716 and the odd
// series to s^17 leaves s^18 / 19 < 2^-50 relative.
inline double log1p_unit(double e) {
  constexpr double kSqrt2Minus1 = 0.41421356237309504880;
  constexpr double kLn2 = 0.69314718055994530942;
  const bool halve = e > kSqrt2Minus1;
  const double num_halved = e - 1.0, den_halved = e + 3.0, den = e + 2.0;
  const double s = (halve ? num_halved : e) / (halve ? den_halved : den);
  const double s2 = s * s;
  // p = 1/3 + s^2/5 + ... + s^14/17, by Estrin's scheme as in exp_split.
  const double s4 = s2 * s2, s8 = s4 * s4;
  const double c35 = 1.0 / 3 + s2 * (1.0 / 5), c79 = 1.0 / 7 + s2 * (1.0 / 9);
  const double c1113 = 1.0 / 11 + s2 * (1.0 / 13), c1517 = 1.0 / 15 + s2 * (1.0 / 17);
  const double p = (c35 + s4 * c79) + s8 * (c1113 + s4 * c1517);
  const double two_atanh = 2.0 * s + (2.0 * s) * (s2 * p);
  const double offset = halve ? kLn2 : 0.0;
  return offset + two_atanh;
}

}  // namespace onnx_mini::vecmath
