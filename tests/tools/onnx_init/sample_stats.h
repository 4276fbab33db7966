// Sample moments and the test bounds derived from the sample size.
//
// Every statistical assertion in these tests allows kSigmas standard errors of the
// statistic, computed from n and the distribution's own moments — no loose constants.
// With 5 standard errors a correct sampler fails one check in about 1.7 million
// (normal approximation); the seeds are fixed, so the tests are deterministic anyway.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>

namespace onnx_mini::init::testing {

inline constexpr double kSigmas = 5.0;

struct Moments {
  size_t n = 0;
  double mean = 0.0;
  double variance = 0.0;  // population (ddof 0), as the torch reference file uses
  double min = 0.0;
  double max = 0.0;
};

inline Moments moments_of(std::span<const float> x) {
  Moments m;
  m.n = x.size();
  if (x.empty()) return m;
  double sum = 0.0;
  m.min = m.max = x[0];
  for (float v : x) {
    sum += v;
    m.min = std::fmin(m.min, v);
    m.max = std::fmax(m.max, v);
  }
  m.mean = sum / static_cast<double>(m.n);
  double squares = 0.0;
  for (float v : x) squares += (v - m.mean) * (v - m.mean);
  m.variance = squares / static_cast<double>(m.n);
  return m;
}

// Standard error of the sample mean: sigma / sqrt(n).
inline double mean_bound(double sigma, size_t n) { return kSigmas * sigma / std::sqrt(static_cast<double>(n)); }

// Standard error of the sample variance for large n: sqrt((mu4 - sigma^4) / n), with
// the fourth central moment mu4 = kurtosis * sigma^4 (3 for a normal, 9/5 for a uniform).
inline double variance_bound(double sigma, double kurtosis, size_t n) {
  const double s4 = sigma * sigma * sigma * sigma;
  return kSigmas * std::sqrt((kurtosis - 1.0) * s4 / static_cast<double>(n));
}
inline constexpr double kNormalKurtosis = 3.0;
inline constexpr double kUniformKurtosis = 9.0 / 5.0;

// For n uniform samples on [a, b): P(min > a + eps*(b-a)) = (1-eps)^n <= exp(-eps*n).
// Returns the eps at which that probability is 1e-7, i.e. ln(1e7)/n.
inline double uniform_edge_fraction(size_t n) { return std::log(1e7) / static_cast<double>(n); }

// Standard error bound of an observed fraction around probability p.
inline double fraction_bound(double p, size_t n) {
  return kSigmas * std::sqrt(p * (1.0 - p) / static_cast<double>(n));
}

}  // namespace onnx_mini::init::testing
