// Seeded uniform data for the GEMM benchmarks.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace onnx_mini::bench {

// n floats uniform in [-1, 1), the same for the same seed.
inline std::vector<float> random_vector(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& x : v) x = dist(gen);
  return v;
}

}  // namespace onnx_mini::bench
