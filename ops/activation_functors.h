// Each activation written once, numerically safe, as a functor usable both by
// the standalone kernels (activation.cc) and by fused epilogues (FusedGemm).
// A functor has `Status init(const Attributes&)` for its parameters and a
// `T operator()(T) const` for float and double.
#pragma once

#include <cmath>

#include "runtime/core/attributes.h"
#include "runtime/core/status.h"

namespace onnx_mini {

struct IdentityFn {
  Status init(const Attributes&) { return Status::ok(); }
  template <typename T> T operator()(T x) const { return x; }
};

struct ReluFn {
  Status init(const Attributes&) { return Status::ok(); }
  // `x < 0 ? 0 : x` rather than max(x, 0): NaN must propagate.
  template <typename T> T operator()(T x) const { return x < T(0) ? T(0) : x; }
};

}  // namespace onnx_mini
