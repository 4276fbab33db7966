// Trigonometric and hyperbolic functions (positional encodings, rotary
// embeddings): Sin Cos Tan Asin Acos Atan (opset 7), Sinh Cosh Asinh Acosh Atanh
// (opset 9). float and double through <cmath> in the input's own type (glibc's
// float functions are correctly rounded or within 1 ULP); outside a function's
// domain the result is NaN (Asin(2), Acosh(0.5), Atanh(2)), at its poles inf
// (Atanh(1)), as numpy gives.
#include <cmath>

#include "ops/unary_kernel.h"

namespace onnx_mini {
namespace {

struct SinFn { template <typename T> T operator()(T x) const { return std::sin(x); } };
struct CosFn { template <typename T> T operator()(T x) const { return std::cos(x); } };
struct TanFn { template <typename T> T operator()(T x) const { return std::tan(x); } };
struct AsinFn { template <typename T> T operator()(T x) const { return std::asin(x); } };
struct AcosFn { template <typename T> T operator()(T x) const { return std::acos(x); } };
struct AtanFn { template <typename T> T operator()(T x) const { return std::atan(x); } };
struct SinhFn { template <typename T> T operator()(T x) const { return std::sinh(x); } };
struct CoshFn { template <typename T> T operator()(T x) const { return std::cosh(x); } };
struct AsinhFn { template <typename T> T operator()(T x) const { return std::asinh(x); } };
struct AcoshFn { template <typename T> T operator()(T x) const { return std::acosh(x); } };
struct AtanhFn { template <typename T> T operator()(T x) const { return std::atanh(x); } };

template <typename Fn>
OpDef float_unary(const char* op_type, int since) {
  return {.op_type = op_type, .since_version = since, .infer = infer_same_as_input0,
          .create = make_kernel<Unary<Fn, Domain::kFloat>>()};
}

}  // namespace

void register_trigonometric_ops(OpRegistry& r) {
  r.add(float_unary<SinFn>("Sin", 7));
  r.add(float_unary<CosFn>("Cos", 7));
  r.add(float_unary<TanFn>("Tan", 7));
  r.add(float_unary<AsinFn>("Asin", 7));
  r.add(float_unary<AcosFn>("Acos", 7));
  r.add(float_unary<AtanFn>("Atan", 7));
  r.add(float_unary<SinhFn>("Sinh", 9));
  r.add(float_unary<CoshFn>("Cosh", 9));
  r.add(float_unary<AsinhFn>("Asinh", 9));
  r.add(float_unary<AcoshFn>("Acosh", 9));
  r.add(float_unary<AtanhFn>("Atanh", 9));
}

}  // namespace onnx_mini
