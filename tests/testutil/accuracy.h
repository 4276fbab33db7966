// Helpers of the accuracy sweep: the input grid and ULP distance to a
// long-double reference.
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

}  // namespace onnx_mini::testing
