// Each activation written once, numerically safe, as a functor usable both by
// the standalone kernels (activation.cc) and by fused epilogues (FusedGemm).
// A functor has `Status init(const Attributes&)` for its parameters and a
// `T operator()(T) const` for float and double (Relu also for integers).
//
// Rules every functor keeps (checked by tests/ops/activation_accuracy_test.cc
// and, densely, tests/ops/activation_sweep_test.cc):
// - float results are faithfully rounded: within 1 ULP of the exact value, on
//   every float input (tests/ops/activation_exhaustive.cc checks all 2^32). Where
//   a formula is not exact in float it is evaluated in double and rounded once,
//   with exp / expm1 / log1p from ops/vecmath.h (relative error < 2^-44, so the
//   float result is within 0.5 + 2^-20 ULP);
// - no overflow or NaN where the exact result is finite (±Inf inputs give the
//   limit, e.g. Sigmoid(-inf) = 0, Softsign(inf) = 1, Mish(-inf) = 0);
// - NaN in, NaN out (comparisons are written so NaN takes the pass-through arm);
// - no branches and no library calls in the float path of operator(): every
//   arm is computed and one is selected, so the loops over a functor vectorise
//   (src/ops is built with -fno-trapping-math, which lets GCC turn those
//   selects into vector blends; it changes no result).
// The double paths use the C library (double is rare for these ops) and keep
// a few ULP (the accuracy test states each bound).
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include "core/attributes.h"
#include "core/status.h"
#include "ops/vecmath.h"

namespace onnx_mini {

// Where a formula chains several transcendental calls or amplifies the rounding
// of an intermediate argument (Mish, Gelu: erfc(z) and exp(-2u) magnify an
// argument error by ~2z^2 and 2|u|), it is evaluated one precision up and
// rounded once: float in double (cheap, keeps float within 0.5 ULP), double in
// long double (x86 80-bit; the double dtype is rare for these ops, and the
// sweep measured up to ~1400 ULP without it).
template <typename T>
using WideFloat = std::conditional_t<std::is_same_v<T, float>, double, long double>;

// Numerically safe logistic function: exp only ever sees -|x|, so it never
// overflows (Sigmoid(-1000) = exp(-1000)/(1+exp(-1000)) = 0, not inf/inf).
template <typename T>
inline T stable_sigmoid(T x) {
  const T e = std::exp(-std::abs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// log(1 + exp(x)) split at 0 so exp never overflows (Softplus(1000) = 1000).
template <typename T>
inline T stable_softplus(T x) {
  return x > T(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// The float paths, in double with ops/vecmath.h. Each returns the double that
// the caller rounds once to float.
namespace float_path {

inline double sigmoid(double x) {
  const double e = vecmath::exp(-std::abs(x));  // in [0, 1]: never overflows
  const double num = x >= 0.0 ? 1.0 : e;
  return num / (1.0 + e);
}

// tanh |x| = e / (e + 2) with e = expm1(2|x|): no cancellation near 0. Past
// |x| = 20 tanh is 1 in double (1 - tanh 20 = 8e-18), so |x| is capped there
// and expm1 never overflows.
inline double tanh(double x) {
  const double a = std::abs(x);
  const double capped = a > 20.0 ? 20.0 : a;
  const double e = vecmath::expm1(2.0 * capped);
  return std::copysign(e / (e + 2.0), x);
}

// max(x, 0) + log1p(exp(-|x|)): both terms >= 0, so nothing cancels.
inline double softplus(double x) {
  const double positive_part = x > 0.0 ? x : 0.0;
  return positive_part + vecmath::log1p_unit(vecmath::exp(-std::abs(x)));
}

// expm1 of min(x, 0): the negative arm of Elu, Selu, Celu, which never
// overflows whatever the other arm's x is.
inline double expm1_nonpositive(double x) { return vecmath::expm1(x < 0.0 ? x : 0.0); }

}  // namespace float_path

struct IdentityFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const { return x; }
};

struct ReluFn {
  static constexpr bool kIntegers = true;  // Relu-14 accepts int8/16/32/64
  Status init(const Attributes&) { return Status::ok(); }
  // `x < 0 ? 0 : x` rather than max(x, 0): NaN must propagate.
  template <typename T> T operator()(T x) const { return x < T(0) ? T(0) : x; }
};

struct SigmoidFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) return static_cast<float>(float_path::sigmoid(x));
    else return stable_sigmoid(x);
  }
};

struct TanhFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) return static_cast<float>(float_path::tanh(x));
    else return std::tanh(x);
  }
};

// One float multiply (correctly rounded). The product is formed before the
// select, so the select does not guard a computation and vectorises.
struct LeakyReluFn {
  float alpha = 0.01f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 0.01f));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const {
    const T scaled = T(alpha) * x;
    return x < T(0) ? scaled : x;
  }
};

// expm1 keeps full relative precision for x near 0 where exp(x) - 1 cancels.
struct EluFn {
  float alpha = 1.0f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.0f));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) {
      const double negative = double(alpha) * float_path::expm1_nonpositive(x);
      return x < 0.0f ? static_cast<float>(negative) : x;
    } else {
      return x < T(0) ? T(alpha) * std::expm1(x) : x;
    }
  }
};

struct SeluFn {
  // The spec's defaults, exactly representable in float.
  float alpha = 1.67326319217681884765625f;
  float gamma = 1.05070102214813232421875f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.67326319217681884765625f));
    OM_ASSIGN_OR_RETURN(gamma, a.get_float("gamma", 1.05070102214813232421875f));
    return Status::ok();
  }
  // In float: gamma * alpha and gamma * x are exact in double (24 x 24 bits),
  // so the positive arm is correctly rounded and the negative one rounds once.
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) {
      const double gamma_alpha = double(gamma) * double(alpha);
      const double negative = gamma_alpha * float_path::expm1_nonpositive(x);
      const double positive = double(gamma) * double(x);
      return static_cast<float>(x <= 0.0f ? negative : positive);
    } else {
      return x <= T(0) ? T(gamma) * (T(alpha) * std::expm1(x)) : T(gamma) * x;
    }
  }
};

struct CeluFn {
  float alpha = 1.0f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.0f));
    if (alpha == 0.0f) return invalid_model("Celu: alpha must not be 0");
    return Status::ok();
  }
  // In float, x / alpha is formed in double: its rounding (2^-53) moves
  // expm1 by at most as much relative. Past |x / alpha| = 708 (a negative
  // alpha makes it positive) vecmath's expm1 gives -1 or +inf, and so does
  // the exact result rounded to float: |alpha| >= 2^-149 and
  // e^708 * 2^-149 > FLT_MAX.
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) {
      const double q = double(x) / double(alpha);
      const double negative = double(alpha) * vecmath::expm1(q);
      return x < 0.0f ? static_cast<float>(negative) : x;
    } else {
      return x < T(0) ? T(alpha) * std::expm1(x / T(alpha)) : x;
    }
  }
};

// alpha*x + beta cancels near v = 0 (x = -beta/alpha), where a rounded
// product is off by many ULP of v. For float the product is exact in double
// (24 x 24 bits), for double std::fma rounds once.
struct HardSigmoidFn {
  float alpha = 0.2f, beta = 0.5f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 0.2f));
    OM_ASSIGN_OR_RETURN(beta, a.get_float("beta", 0.5f));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const {
    T v;
    if constexpr (std::is_same_v<T, float>) {
      v = static_cast<float>(double(alpha) * double(x) + double(beta));
    } else {
      v = std::fma(T(alpha), x, T(beta));
    }
    // The lower clamp as a bit mask, not a select: with -fno-trapping-math GCC
    // lowered the two nested selects into twice the blends (20-30 % slower,
    // measured); the mask keeps v's bits (NaN, -0) unless v < 0.
    using Bits = std::conditional_t<std::is_same_v<T, float>, uint32_t, uint64_t>;
    const Bits keep = v < T(0) ? Bits{0} : ~Bits{0};
    const T lower = std::bit_cast<T>(std::bit_cast<Bits>(v) & keep);
    return lower > T(1) ? T(1) : lower;
  }
};

// x * clamp(x/6 + 1/2, 0, 1). Inside (-3, 3) it is written x*(x+3)/6: x+3 is
// exact near -3 where x/6 + 0.5 would cancel catastrophically. The outer arms
// avoid -inf * 0. In float the middle arm is formed in double (three roundings
// of 2^-53) and rounded once.
struct HardSwishFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    using W = std::conditional_t<std::is_same_v<T, float>, double, T>;
    const W w = static_cast<W>(x);
    const T middle = static_cast<T>(w * (w + W(3)) / W(6));
    return x <= T(-3) ? T(0) : (x >= T(3) ? x : middle);
  }
};

struct SoftplusFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) return static_cast<float>(float_path::softplus(x));
    else return stable_softplus(x);
  }
};

// x / (1 + |x|); at ±inf that is inf/inf, so the limit ±1 is selected. In
// float the quotient is formed in double (two roundings of 2^-53) and rounded
// once.
struct SoftsignFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    using W = std::conditional_t<std::is_same_v<T, float>, double, T>;
    const W w = static_cast<W>(x);
    const T y = static_cast<T>(w / (W(1) + std::abs(w)));
    return std::abs(x) == std::numeric_limits<T>::infinity() ? std::copysign(T(1), x) : y;
  }
};

struct ThresholdedReluFn {
  float alpha = 1.0f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.0f));
    return Status::ok();
  }
  // `x <= alpha ? 0 : x` so NaN propagates like Relu.
  template <typename T> T operator()(T x) const { return x <= T(alpha) ? T(0) : x; }
};

// x * tanh(softplus(x)). With n = e^x, tanh(log(1+n)) = n(n+2) / (n(n+2) + 2),
// which has no cancellation for x <= 0 (where tanh(softplus) would be tiny);
// for x > 0 the plain form is accurate and avoids n overflowing. The float
// path uses one exponential for both arms: with e = e^-|x|, the same ratio is
// q / (q + 2), q = e(e + 2), for x <= 0 and (1 + 2e) / (1 + 2e + 2e^2) for
// x > 0 (numerator and denominator divided by n^2), all terms positive.
struct MishFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const {
    if constexpr (std::is_same_v<T, float>) {
      const double w = x;
      const double e = vecmath::exp(-std::abs(w));
      const double q = e * (e + 2.0);
      const double two_e = 2.0 * e;
      const double num = w <= 0.0 ? q : 1.0 + two_e;
      const double den = w <= 0.0 ? q + 2.0 : 1.0 + two_e + two_e * e;
      const float y = static_cast<float>(w * (num / den));
      // -inf * 0 would be NaN; the limit is 0.
      return x == -std::numeric_limits<float>::infinity() ? 0.0f : y;
    } else {
      using W = WideFloat<T>;
      const W w = static_cast<W>(x);
      const W n = std::exp(w < W(0) ? w : W(0));
      const W q = n * (n + W(2));
      const W neg = w * (q / (q + W(2)));
      const W pos = w * std::tanh(stable_softplus(w));
      const W y = w <= W(0) ? neg : pos;
      return w == -std::numeric_limits<W>::infinity() ? T(0) : static_cast<T>(y);
    }
  }
};

// Gelu (opset 20): approximate = "none": x/2 * erfc(-x/sqrt 2), written with
// erfc so that 1 + erf(x/sqrt 2) does not cancel for negative x;
// approximate = "tanh": x/2 * (1 + tanh(u)) = x * sigmoid(2u),
// u = sqrt(2/pi) * (x + 0.044715 x^3), again free of cancellation.
struct GeluFn {
  bool tanh_approx = false;
  Status init(const Attributes& a) {
    Result<std::string> got = a.get_string("approximate", "none");
    if (!got.is_ok()) return got.status();
    const std::string& mode = got.value();
    if (mode != "none" && mode != "tanh") {
      return invalid_model("Gelu: approximate must be 'none' or 'tanh', got '" + mode + "'");
    }
    tanh_approx = mode == "tanh";
    return Status::ok();
  }
  template <typename T> T operator()(T x) const {
    using W = WideFloat<T>;
    const W w = static_cast<W>(x);
    W y;
    if (tanh_approx) {  // a per-functor constant, not a per-element branch
      const W u = W(0.79788456080286535587989211986876L) * (w + W(0.044715L) * w * w * w);
      if constexpr (std::is_same_v<T, float>) {
        y = w * float_path::sigmoid(W(2) * u);
      } else {
        y = w * stable_sigmoid(W(2) * u);
      }
    } else {
      y = W(0.5) * w * std::erfc(-w * W(0.70710678118654752440084436210485L));
    }
    return w == -std::numeric_limits<W>::infinity() ? T(0) : static_cast<T>(y);
  }
};

// Clip with constant bounds, as a fused epilogue applies it (a convolution's
// ReLU6 is Clip(0, 6)); the attribute names are Clip-6's `min` and `max`.
// Raised to lo, then lowered to hi (lo > hi gives hi, as numpy.clip and the
// Clip kernel); NaN passes through.
struct ClipFn {
  float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(lo, a.get_float("min", std::numeric_limits<float>::lowest()));
    OM_ASSIGN_OR_RETURN(hi, a.get_float("max", std::numeric_limits<float>::max()));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const {
    const T v = x < T(lo) ? T(lo) : x;
    return v > T(hi) ? T(hi) : v;
  }
};

// The two activations only the recurrent ops name (their `activations`
// attribute; no ONNX op of their own): alpha * x + beta and alpha * tanh(beta * x).
// Affine takes the defaults of the experimental ONNX op it once was (1, 0);
// ScaledTanh never had defaults, so its recurrent parser asks for both.
struct AffineFn {
  float alpha = 1.0f, beta = 0.0f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.0f));
    OM_ASSIGN_OR_RETURN(beta, a.get_float("beta", 0.0f));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const { return T(alpha) * x + T(beta); }
};

struct ScaledTanhFn {
  float alpha = 1.0f, beta = 1.0f;
  Status init(const Attributes& a) {
    OM_ASSIGN_OR_RETURN(alpha, a.get_float("alpha", 1.0f));
    OM_ASSIGN_OR_RETURN(beta, a.get_float("beta", 1.0f));
    return Status::ok();
  }
  template <typename T> T operator()(T x) const { return T(alpha) * TanhFn{}(T(beta) * x); }
};

// PRelu's pointwise rule (the slope comes from a broadcast second input).
struct PReluOp {
  template <typename T> T operator()(T x, T slope) const { return x < T(0) ? slope * x : x; }
};

}  // namespace onnx_mini
