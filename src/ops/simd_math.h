// Vectorised loops for the hot spots of transformer inference: GELU over
// whole rows (the FusedGemm epilogue and the standalone kernel), and the sums
// of LayerNormalization. On CPUs with
// AVX-512F they run 16 floats (or 8 doubles) per instruction through
// per-function target attributes, as the packed GEMM does, so the binary stays
// portable; elsewhere the same functions run scalar code.
//
// Accuracy, stated where it is earned (tests/ops/simd_math_test.cc):
// - GELU: evaluated in double and rounded once, faithfully rounded over the
//   whole float range: within 0.5 + 2^-11 ULP of the exact value (erfc from a
//   fitted polynomial of relative error 2.3e-11; the dense sweep in
//   tests/ops/activation_sweep_test.cc measured 0.50023).
#pragma once

#include <cstdint>

namespace onnx_mini::simd {

// True when this CPU runs the AVX-512F versions.
bool has_avx512f();

// y[i] = GELU(x[i]): x * Phi(x) (tanh_approx false) or
// x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) (true). x and y may alias.
void gelu(const float* x, float* y, int64_t n, bool tanh_approx);

// Mean and population variance of n floats, accumulated in double, the
// variance in a second pass over (x - mean) (never E[x^2] - E[x]^2, which
// cancels when |mean| >> std). n >= 1.
struct MeanVar {
  double mean, variance;
};
MeanVar mean_variance(const float* x, int64_t n);

// y[i] = (x[i] - mean) * inv_std * scale[i] + bias[i] (bias null: none), in
// double and rounded once: x - mean is exact there, where in float it would
// lose the digits of x that lie below the rounding of a mean much larger than
// the spread.
void normalize_row(const float* x, float* y, int64_t n, double mean, double inv_std, const float* scale,
                   const float* bias);

}  // namespace onnx_mini::simd
