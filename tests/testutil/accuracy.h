// Helpers of the accuracy sweeps: the input grid, ULP distance to a
// long-double reference, and the faithful / correct rounding predicates.
#pragma once

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace onnx_mini::testing {

// The edge cases (ORT's list plus the issue's) and seeded random values.
template <typename T>
std::vector<T> sweep_grid() {
  const T inf = std::numeric_limits<T>::infinity();
  std::vector<T> mags = {T(0), T(1e-30), T(1e-10), T(1e-3), T(0.1), T(0.5), T(1), T(2), T(2.9999), T(3), T(3.0001),
                         T(5), T(10), T(15), T(20), T(30), T(50), T(87), T(89), T(100), T(700), T(1000), T(1e4),
                         T(1e30), std::numeric_limits<T>::max(), std::numeric_limits<T>::min(),
                         std::numeric_limits<T>::denorm_min(), inf};
  std::vector<T> grid;
  for (T m : mags) {
    grid.push_back(m);
    grid.push_back(-m);
  }
  grid.push_back(std::numeric_limits<T>::quiet_NaN());
  std::mt19937 rng(20240607);  // fixed seed: failures must reproduce
  std::uniform_real_distribution<double> small(-30.0, 30.0), expo(-40.0, 38.0);
  for (int i = 0; i < 3000; ++i) grid.push_back(static_cast<T>(small(rng)));
  for (int i = 0; i < 1000; ++i) {
    T v = static_cast<T>(std::pow(10.0, expo(rng)));
    grid.push_back(i % 2 ? v : -v);
  }
  return grid;
}

// Error of `got` against the exact value `ref`, in units of the last place of
// T at ref (denormal spacing below the normal range). Returns +inf for a
// non-finite result where the correctly rounded value is finite, or a NaN
// mismatch; 0 when both are the same infinity or both NaN.
template <typename T>
double ulp_error(T got, long double ref) {
  if (std::isnan(ref)) return std::isnan(got) ? 0.0 : INFINITY;
  const T rounded = static_cast<T>(ref);
  if (std::isinf(rounded)) return got == rounded ? 0.0 : INFINITY;
  if (!std::isfinite(got)) return INFINITY;
  const int digits = std::numeric_limits<T>::digits;  // 24 for float
  const long double min_spacing = std::ldexp(1.0L, std::numeric_limits<T>::min_exponent - digits);
  long double spacing = min_spacing;
  if (ref != 0) spacing = std::max(min_spacing, std::ldexp(1.0L, std::ilogb(ref) - (digits - 1)));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) / spacing);
}

// Faithful rounding, the promise of the float paths: `got` is one of the two
// floats bracketing the exact value `ref` (the nearest one or its neighbour on
// the other side of ref), so its error is below 1 ULP. Stricter than
// ulp_error < 1 at a power of two: for ref just above 2^k, the float below 2^k
// is within 1 ULP of ref's binade but does not bracket it. Past the largest
// float the bracket is (max, inf). NaN must give NaN.
template <typename T>
bool faithfully_rounded(T got, long double ref) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got);
  if (std::isinf(ref)) return static_cast<long double>(got) == ref;
  const T nearest = static_cast<T>(ref);
  const long double at = nearest;
  T other = nearest;
  if (at < ref) other = std::nextafter(nearest, std::numeric_limits<T>::infinity());
  if (at > ref) other = std::nextafter(nearest, -std::numeric_limits<T>::infinity());
  return got == nearest || got == other;
}

// The float nearest to `ref` (ties to even), or NaN for NaN.
template <typename T>
bool correctly_rounded(T got, long double ref) {
  if (std::isnan(ref) || std::isnan(got)) return std::isnan(ref) && std::isnan(got);
  return got == static_cast<T>(ref);
}

}  // namespace onnx_mini::testing
