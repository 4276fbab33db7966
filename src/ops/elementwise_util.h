// Dtype dispatch helpers shared by the elementwise op families.
#pragma once

#include <cstdint>
#include <utility>

#include "core/dtype.h"

namespace onnx_mini {

// dispatch_arithmetic (numeric, non-bool dtypes) lives in core/dtype.h.

// Calls f(T{}) for float and double only.
template <typename F>
bool dispatch_float(DataType t, F&& f) {
  if (t == DataType::kFloat) { f(float{}); return true; }
  if (t == DataType::kDouble) { f(double{}); return true; }
  return false;
}

}  // namespace onnx_mini
