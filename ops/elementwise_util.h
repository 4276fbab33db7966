// Dtype dispatch helpers shared by the elementwise op families.
#pragma once

#include <cstdint>
#include <utility>

#include "runtime/core/dtype.h"

namespace onnx_mini {

// Calls f(T{}) for the numeric (non-bool) dtypes arithmetic ops accept.
// Unlike dispatch_dtype it never instantiates f for bool.
template <typename F>
bool dispatch_arithmetic(DataType t, F&& f) {
  switch (t) {
    case DataType::kFloat: f(float{}); return true;
    case DataType::kDouble: f(double{}); return true;
    case DataType::kInt64: f(int64_t{}); return true;
    case DataType::kInt32: f(int32_t{}); return true;
    case DataType::kInt16: f(int16_t{}); return true;
    case DataType::kInt8: f(int8_t{}); return true;
    case DataType::kUInt8: f(uint8_t{}); return true;
    case DataType::kUInt16: f(uint16_t{}); return true;
    case DataType::kUInt32: f(uint32_t{}); return true;
    case DataType::kUInt64: f(uint64_t{}); return true;
    default: return false;
  }
}

// Calls f(T{}) for float and double only.
template <typename F>
bool dispatch_float(DataType t, F&& f) {
  if (t == DataType::kFloat) { f(float{}); return true; }
  if (t == DataType::kDouble) { f(double{}); return true; }
  return false;
}

}  // namespace onnx_mini
