// The one tensor comparison of the tests, in ONNX Runtime's form.
#pragma once

#include <string>

#include "core/tensor.h"

namespace onnx_mini::testing {

// Elementwise bound: |got - want| <= atol + rtol * max(|want|, magnitude_floor).
// magnitude_floor = 0 (the default) is ONNX Runtime's form, atol + rtol * |want|;
// magnitude_floor = 1 (with atol = 0) is "relative above |want| = 1, absolute below",
// the bound the primitive-op tests state. Every call site says why its numbers are safe.
struct Tolerance {
  double atol = 0;
  double rtol = 0;
  double magnitude_floor = 0;
};

// Same shape and dtype (except that a float `got` may be checked against a
// double-precision reference passed as a double tensor); float and double
// elements within `tol`, NaN and +-Inf in `want` matched exactly (a NaN or Inf
// in `got` where `want` is finite fails); other dtypes bytewise equal.
void expect_close(const Tensor& got, const Tensor& want, const Tolerance& tol, const std::string& what = "");

}  // namespace onnx_mini::testing
