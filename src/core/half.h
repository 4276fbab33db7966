// The two 16-bit float storage types, float16 (IEEE 754 binary16) and bfloat16
// (the top half of a float32), held as their bit patterns (uint16_t). onnx-mini
// has no 16-bit arithmetic: kernels compute in float32 and round on store.
//
// Every conversion to a 16-bit type rounds once, to nearest with ties to even
// (what numpy, PyTorch and ONNX Runtime do); overflow gives inf, NaN stays NaN
// (quiet, sign kept). Widening to float32 or double is exact.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace onnx_mini {

inline constexpr uint16_t kHalfQuietNaN = 0x7e00;
inline constexpr uint16_t kBFloat16QuietNaN = 0x7fc0;
inline constexpr uint16_t kHalfOne = 0x3c00;
inline constexpr uint16_t kBFloat16One = 0x3f80;

inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t bits = h & 0x7fffu;
  if (bits >= 0x7c00u) return std::bit_cast<float>(sign | 0x7f800000u | ((bits & 0x3ffu) << 13));  // inf, NaN
  if (bits >= 0x0400u) return std::bit_cast<float>(sign | ((bits << 13) + 0x38000000u));  // normal: exponent 15 -> 127
  // Zero or subnormal: bits units of 2^-24, exact in float.
  const float magnitude = static_cast<float>(bits) * 0x1p-24f;
  return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
}

inline uint16_t float_to_half(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return sign | kHalfQuietNaN;
  // 65520 (0x477ff000) is the tie between 65504, the largest half, and 2^16: it and above round to inf.
  if (x >= 0x477ff000u) return sign | 0x7c00u;
  if (x < 0x38800000u) {
    // Below 2^-14, half's smallest normal: adding 0.5 (whose ulp is 2^-24, half's
    // subnormal step) lets the float adder round to the subnormal, ties to even.
    const float sum = std::bit_cast<float>(x) + 0.5f;
    return sign | static_cast<uint16_t>(std::bit_cast<uint32_t>(sum) - 0x3f000000u);
  }
  // Normal: exponent 127 -> 15 (subtract 112 << 23), then drop 13 mantissa bits
  // rounding to nearest even (add 0xfff plus the bit that becomes the last one).
  const uint32_t last = (x >> 13) & 1u;
  x += 0xc8000fffu + last;
  return sign | static_cast<uint16_t>(x >> 13);
}

inline float bfloat16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

inline uint16_t float_to_bfloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x0040u);  // quiet NaN
  // Round to nearest even on the low 16 bits; a carry into the exponent is
  // right (up to the next binade, or to inf past bfloat16's largest value).
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

// v as a float rounded to odd: truncated toward zero, with the last bit set
// when that lost anything. Rounding this float again to a format with at least
// two fewer mantissa bits (float16, bfloat16) gives v correctly rounded: the
// double rounding through float cannot create a false tie.
inline float round_to_odd_float(long double v) {
  float f = static_cast<float>(v);
  if (std::isnan(f) || static_cast<long double>(f) == v) return f;
  if (std::fabs(static_cast<long double>(f)) > std::fabs(v)) f = std::nextafter(f, 0.0f);
  return std::bit_cast<float>(std::bit_cast<uint32_t>(f) | 1u);
}

// Any arithmetic value (float, double, integers, bool) to float16 / bfloat16,
// rounded once. long double holds every double and 64-bit integer exactly.
template <typename From>
uint16_t to_half(From v) {
  if constexpr (std::is_same_v<From, float>) {
    return float_to_half(v);
  } else {
    return float_to_half(round_to_odd_float(static_cast<long double>(v)));
  }
}
template <typename From>
uint16_t to_bfloat16(From v) {
  if constexpr (std::is_same_v<From, float>) {
    return float_to_bfloat16(v);
  } else {
    return float_to_bfloat16(round_to_odd_float(static_cast<long double>(v)));
  }
}

// Kept for the callers that reason in double (exact: every half is a double).
inline double half_to_double(uint16_t h) { return half_to_float(h); }
inline uint16_t double_to_half(double d) { return to_half(d); }

}  // namespace onnx_mini
