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

// Calls f(U{}) with the unsigned integer type of an element size (1, 2, 4 or
// 8 bytes): one instantiation serves every dtype of that size, for kernels that
// only move or select elements.
template <typename F>
bool dispatch_size(size_t bytes, F&& f) {
  switch (bytes) {
    case 1: f(uint8_t{}); return true;
    case 2: f(uint16_t{}); return true;
    case 4: f(uint32_t{}); return true;
    case 8: f(uint64_t{}); return true;
    default: return false;
  }
}

}  // namespace onnx_mini
