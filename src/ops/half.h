// IEEE 754 binary16 (float16) <-> double, for Cast and for the ops that only
// select among their float16 inputs (Max/Min). onnx-mini has no float16
// arithmetic; Cast lets a graph move in and out of float16 storage.
#pragma once

#include <cmath>
#include <cstdint>

namespace onnx_mini {

inline constexpr uint16_t kHalfQuietNaN = 0x7e00;

inline double half_to_double(uint16_t h) {
  const bool neg = (h >> 15) & 1u;
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(static_cast<double>(mant), -24);  // zero or subnormal
  } else if (exp == 31) {
    v = mant ? std::nan("") : INFINITY;
  } else {
    v = std::ldexp(static_cast<double>(1024 + mant), exp - 25);
  }
  return neg ? -v : v;
}

// Round to nearest, ties to even (what numpy's astype(float16) does); overflow gives inf.
inline uint16_t double_to_half(double d) {
  const uint16_t sign = std::signbit(d) ? 0x8000 : 0;
  if (std::isnan(d)) return sign | 0x7e00;
  const double a = std::fabs(d);
  if (a >= 65520.0) return sign | 0x7c00;  // 65520 is the tie between 65504 and 2^16: rounds to inf
  if (a < std::ldexp(1.0, -14)) {
    // Subnormal: units of 2^-24; a rounded result of 1024 is exactly the smallest normal's bits.
    return sign | static_cast<uint16_t>(std::nearbyint(std::ldexp(a, 24)));
  }
  int e2 = 0;
  const double fr = std::frexp(a, &e2);  // a = fr * 2^e2, fr in [0.5, 1)
  int e = e2 - 1;
  // (fr*2 - 1) * 1024 is exact in double; nearbyint rounds ties to even.
  auto m = static_cast<int>(std::nearbyint((fr * 2.0 - 1.0) * 1024.0));
  if (m == 1024) {
    m = 0;
    ++e;
  }
  const int biased = e + 15;
  if (biased >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>((biased << 10) | m);
}

}  // namespace onnx_mini
