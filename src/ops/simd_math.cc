#include "ops/simd_math.h"

#include <array>
#include <cmath>
#include <limits>

#include "ops/activation_functors.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_AVX512 1
#define OM_AVX512 __attribute__((target("avx512f")))
#else
#define ONNX_MINI_HAVE_AVX512 0
#endif

namespace onnx_mini::simd {
namespace {

// erfc(z) = exp(-z^2) * s * P(t), s = 1 / (1 + A z), t = (2 s - (1 + s_min)) / (1 - s_min),
// for 0 <= z <= Z_MAX; beyond, GELU's erfc term is below float's smallest
// denormal. Written by scripts/fit_gelu_erfcx.py (worst relative error of P
// 2.3e-11, evaluated in double).
constexpr double kErfcxA = 0.3;
constexpr double kErfcxZMax = 10.6;
constexpr double kErfcxSMin = 0.23923444976076558;
constexpr double kErfcxPoly[] = {
    0.4043396323624714,     0.3008766482512092,     0.17741911827319504,    0.08191996914377155,
    0.02843828924740089,    0.006633435151167383,   0.0006176867051874719,  -0.0001845369812875968,
    -6.612370120512939e-05, 1.7600586042785805e-06, 4.223817857330444e-06,  1.2592391054692433e-07,
    -2.2825110742247106e-07};
constexpr int kErfcxTerms = sizeof(kErfcxPoly) / sizeof(kErfcxPoly[0]);

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCubic = 0.044715;
// GELU's x with |x| beyond sqrt(2) Z_MAX: the erfc term is taken as 0.
constexpr double kGeluXMax = 1.41421356237309504880 * kErfcxZMax;

// 1/i! for i = 0..11: the Taylor coefficients of exp.
constexpr auto kInvFactorial = [] {
  std::array<double, 12> c{};
  double f = 1.0;
  for (int i = 0; i < 12; ++i) {
    if (i > 0) f *= i;
    c[static_cast<size_t>(i)] = 1.0 / f;
  }
  return c;
}();

#if ONNX_MINI_HAVE_AVX512

// exp(v) for double lanes, v clamped to [-745, 709] (0 and the largest finite
// values beyond): Taylor degree 11 on |r| <= ln2/2 (truncation < 4e-15).
OM_AVX512 inline __m512d exp_pd(__m512d v) {
  v = _mm512_max_pd(_mm512_set1_pd(-745.0), v);
  v = _mm512_min_pd(_mm512_set1_pd(709.0), v);
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(v, _mm512_set1_pd(1.4426950408889634074)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471805599453), v);
  r = _mm512_fnmadd_pd(n, _mm512_set1_pd(2.3190468138462996e-17), r);
  __m512d p = _mm512_set1_pd(kInvFactorial[11]);
  for (int i = 10; i >= 0; --i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kInvFactorial[i]));
  return _mm512_scalef_pd(p, n);
}

// GELU, erf form, on 8 float values widened to double: x * Phi(x) with
// Phi = 1 - erfc(z)/2 for x >= 0 and erfc(z)/2 below, z = |x|/sqrt 2: no
// cancellation on either side. z^2 = x^2/2 is exact in double for a float x,
// so exp(-z^2) carries no amplified argument error.
OM_AVX512 inline __m512d gelu_erf_pd(__m512d x) {
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const __m512d ax = _mm512_min_pd(_mm512_set1_pd(kGeluXMax), _mm512_abs_pd(x));
  const __m512d z = _mm512_mul_pd(ax, _mm512_set1_pd(kInvSqrt2));
  const __m512d s = _mm512_div_pd(one, _mm512_fmadd_pd(_mm512_set1_pd(kErfcxA), z, one));
  const __m512d t = _mm512_fmsub_pd(s, _mm512_set1_pd(2.0 / (1.0 - kErfcxSMin)),
                                    _mm512_set1_pd((1.0 + kErfcxSMin) / (1.0 - kErfcxSMin)));
  __m512d p = _mm512_set1_pd(kErfcxPoly[kErfcxTerms - 1]);
  for (int i = kErfcxTerms - 2; i >= 0; --i) p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(kErfcxPoly[i]));
  const __m512d minus_z2 = _mm512_mul_pd(_mm512_mul_pd(ax, ax), _mm512_set1_pd(-0.5));
  __m512d half_erfc = _mm512_mul_pd(_mm512_mul_pd(exp_pd(minus_z2), _mm512_mul_pd(s, p)), _mm512_set1_pd(0.5));
  const __mmask8 beyond = _mm512_cmp_pd_mask(_mm512_abs_pd(x), _mm512_set1_pd(kGeluXMax), _CMP_GT_OQ);
  half_erfc = _mm512_mask_mov_pd(half_erfc, beyond, zero);
  const __mmask8 positive = _mm512_cmp_pd_mask(x, zero, _CMP_GE_OQ);
  const __m512d phi = _mm512_mask_mov_pd(half_erfc, positive, _mm512_sub_pd(one, half_erfc));
  return _mm512_mul_pd(x, phi);
}

// GELU, tanh form: x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3), the
// sigmoid with exp(-|2u|) only (no overflow), as stable_sigmoid.
OM_AVX512 inline __m512d gelu_tanh_pd(__m512d x) {
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d x3 = _mm512_mul_pd(_mm512_mul_pd(x, x), x);
  const __m512d v = _mm512_mul_pd(_mm512_fmadd_pd(_mm512_set1_pd(kGeluCubic), x3, x), _mm512_set1_pd(2 * kSqrt2OverPi));
  const __m512d e = exp_pd(_mm512_sub_pd(_mm512_setzero_pd(), _mm512_abs_pd(v)));
  const __m512d r = _mm512_div_pd(one, _mm512_add_pd(one, e));
  const __mmask8 negative = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_LT_OQ);
  return _mm512_mul_pd(x, _mm512_mask_mul_pd(r, negative, e, r));
}

// GELU(-inf) is the limit 0 (x * Phi would be -inf * 0).
OM_AVX512 inline __m512d gelu_pd(__m512d x, bool tanh_approx) {
  const __m512d y = tanh_approx ? gelu_tanh_pd(x) : gelu_erf_pd(x);
  const __mmask8 minus_inf =
      _mm512_cmp_pd_mask(x, _mm512_set1_pd(-std::numeric_limits<double>::infinity()), _CMP_EQ_OQ);
  return _mm512_mask_mov_pd(y, minus_inf, _mm512_setzero_pd());
}

OM_AVX512 void gelu_avx512(const float* x, float* y, int64_t n, bool tanh_approx) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d w = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
    _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(gelu_pd(w, tanh_approx)));
  }
  if (i < n) {  // the last 1..7 values through a zero-padded block
    alignas(32) float tail[8] = {};
    for (int64_t j = i; j < n; ++j) tail[j - i] = x[j];
    _mm256_store_ps(tail, _mm512_cvtpd_ps(gelu_pd(_mm512_cvtps_pd(_mm256_load_ps(tail)), tanh_approx)));
    for (int64_t j = i; j < n; ++j) y[j] = tail[j - i];
  }
}

// 16 floats as two vectors of 8 doubles.
OM_AVX512 inline __m512d low_pd(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
OM_AVX512 inline __m512d high_pd(__m512 v) {
  return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

OM_AVX512 MeanVar mean_variance_avx512(const float* x, int64_t n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    acc0 = _mm512_add_pd(acc0, low_pd(v));
    acc1 = _mm512_add_pd(acc1, high_pd(v));
  }
  double sum = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  for (int64_t j = i; j < n; ++j) sum += x[j];
  const double mean = sum / static_cast<double>(n);
  const __m512d vmean = _mm512_set1_pd(mean);
  acc0 = _mm512_setzero_pd();
  acc1 = _mm512_setzero_pd();
  for (i = 0; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512d d0 = _mm512_sub_pd(low_pd(v), vmean), d1 = _mm512_sub_pd(high_pd(v), vmean);
    acc0 = _mm512_fmadd_pd(d0, d0, acc0);
    acc1 = _mm512_fmadd_pd(d1, d1, acc1);
  }
  double squares = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  for (int64_t j = i; j < n; ++j) squares += (x[j] - mean) * (x[j] - mean);
  return {mean, squares / static_cast<double>(n)};
}

OM_AVX512 void normalize_row_avx512(const float* x, float* y, int64_t n, double mean, double inv_std,
                                    const float* scale, const float* bias) {
  const __m512d vmean = _mm512_set1_pd(mean), vinv = _mm512_set1_pd(inv_std);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d v = _mm512_cvtps_pd(_mm256_loadu_ps(x + i));
    const __m512d s = _mm512_cvtps_pd(_mm256_loadu_ps(scale + i));
    const __m512d normalized = _mm512_mul_pd(_mm512_sub_pd(v, vmean), vinv);
    const __m512d b = bias ? _mm512_cvtps_pd(_mm256_loadu_ps(bias + i)) : _mm512_setzero_pd();
    _mm256_storeu_ps(y + i, _mm512_cvtpd_ps(_mm512_fmadd_pd(normalized, s, b)));
  }
  for (; i < n; ++i) {
    const double normalized = (static_cast<double>(x[i]) - mean) * inv_std;
    y[i] = static_cast<float>(std::fma(normalized, static_cast<double>(scale[i]), bias ? double(bias[i]) : 0.0));
  }
}

#endif  // ONNX_MINI_HAVE_AVX512

}  // namespace

bool has_avx512f() {
#if ONNX_MINI_HAVE_AVX512
  static const bool ok = __builtin_cpu_supports("avx512f");
  return ok;
#else
  return false;
#endif
}

void gelu(const float* x, float* y, int64_t n, bool tanh_approx) {
#if ONNX_MINI_HAVE_AVX512
  if (has_avx512f()) return gelu_avx512(x, y, n, tanh_approx);
#endif
  GeluFn fn;
  fn.tanh_approx = tanh_approx;
  for (int64_t i = 0; i < n; ++i) y[i] = fn(x[i]);
}

MeanVar mean_variance(const float* x, int64_t n) {
#if ONNX_MINI_HAVE_AVX512
  if (has_avx512f()) return mean_variance_avx512(x, n);
#endif
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int64_t i = 0; i < n; ++i) squares += (x[i] - mean) * (x[i] - mean);
  return {mean, squares / static_cast<double>(n)};
}

void normalize_row(const float* x, float* y, int64_t n, double mean, double inv_std, const float* scale,
                   const float* bias) {
#if ONNX_MINI_HAVE_AVX512
  if (has_avx512f()) return normalize_row_avx512(x, y, n, mean, inv_std, scale, bias);
#endif
  for (int64_t i = 0; i < n; ++i) {
    const double normalized = (static_cast<double>(x[i]) - mean) * inv_std;
    y[i] = static_cast<float>(std::fma(normalized, static_cast<double>(scale[i]), bias ? double(bias[i]) : 0.0));
  }
}

}  // namespace onnx_mini::simd
