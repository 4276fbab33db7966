// Numeric conversions and integer arithmetic with defined results where plain
// C++ would be undefined: signed overflow wraps (two's complement, as the
// hardware and numpy do) and float -> integer conversion is total.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace onnx_mini {

// a + b, a - b, a * b, -a with two's complement wrap-around for integers.
template <typename T> T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}
template <typename T> T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else {
    return a - b;
  }
}
template <typename T> T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // uint8/uint16 would promote to (signed) int and could overflow there: widen to 64 bits first.
    using U = std::conditional_t<(sizeof(T) < 8), uint64_t, std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else {
    return a * b;
  }
}
template <typename T> T wrap_neg(T a) { return wrap_sub(T{0}, a); }

// floor(a / b) for b > 0, every a (C++'s / truncates toward zero): window
// and padding arithmetic, where a may be negative. No intermediate can
// overflow (-((-a + b - 1) / b) did for a near INT64_MIN).
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return a % b != 0 && a < 0 ? q - 1 : q;
}

// Float -> integer: truncation toward zero as C does for values in range;
// NaN gives 0 and values beyond the target's range saturate to its min/max
// (C leaves both undefined). Float -> bool: nonzero (NaN included) is true.
template <typename To, typename From> To convert_value(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    if (std::isnan(v)) return To{0};
    // Compare in long double: exact for every int64 bound.
    const long double t = std::trunc(static_cast<long double>(v));
    if (t <= static_cast<long double>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (t >= static_cast<long double>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(t);
  } else {
    // Integer -> integer keeps the low bits (C++20 modular conversion);
    // integer/float -> float rounds; double -> float overflow gives inf.
    return static_cast<To>(v);
  }
}

}  // namespace onnx_mini
