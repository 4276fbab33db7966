// Element types. Values equal ONNX's TensorProto.DataType so conversion is a cast
// after a range check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace onnx_mini {

enum class DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
  // Known to ONNX (opsets 19-23), never held by an onnx-mini tensor: named so
  // that a model using them is refused as unsupported, with the type's name.
  kFloat8E4M3FN = 17,
  kFloat8E4M3FNUZ = 18,
  kFloat8E5M2 = 19,
  kFloat8E5M2FNUZ = 20,
  kUInt4 = 21,
  kInt4 = 22,
  kFloat4E2M1 = 23,
};

// Element size in bytes; 0 for types without a fixed-size numeric layout (string, undefined).
size_t dtype_size(DataType t);
// Numeric types plus bool: the ones tensors in onnx-mini can hold, so the ones
// the loader accepts. Code that handles "every dtype" (onnx-run --check's
// comparison, printing) is tested against this list.
inline constexpr DataType kSupportedDtypes[] = {
    DataType::kFloat,  DataType::kDouble, DataType::kFloat16, DataType::kBFloat16, DataType::kInt64,
    DataType::kInt32,  DataType::kInt16,  DataType::kInt8,    DataType::kUInt8,    DataType::kUInt16,
    DataType::kUInt32, DataType::kUInt64, DataType::kBool,
};
bool dtype_is_supported(DataType t);
// "dtype X is not supported", with the reason for the types ONNX defines but
// onnx-mini deliberately leaves out (string, complex, float8, float4, int4, uint4).
std::string unsupported_dtype_message(DataType t);
// float16 and bfloat16: held as their 16-bit patterns, computed in float32.
bool dtype_is_half(DataType t);
bool dtype_is_float(DataType t);  // float16, bfloat16, float, double
bool dtype_is_integer(DataType t);
std::string dtype_name(DataType t);  // "float", "int64", ... (ONNX spelling)
// From an ONNX enum value read from a file; kUndefined when out of range.
DataType dtype_from_onnx(int32_t v);

template <typename T> constexpr DataType dtype_of();
template <> constexpr DataType dtype_of<float>() { return DataType::kFloat; }
template <> constexpr DataType dtype_of<double>() { return DataType::kDouble; }
template <> constexpr DataType dtype_of<int64_t>() { return DataType::kInt64; }
template <> constexpr DataType dtype_of<int32_t>() { return DataType::kInt32; }
template <> constexpr DataType dtype_of<int16_t>() { return DataType::kInt16; }
template <> constexpr DataType dtype_of<int8_t>() { return DataType::kInt8; }
template <> constexpr DataType dtype_of<uint8_t>() { return DataType::kUInt8; }
template <> constexpr DataType dtype_of<uint16_t>() { return DataType::kUInt16; }
template <> constexpr DataType dtype_of<uint32_t>() { return DataType::kUInt32; }
template <> constexpr DataType dtype_of<uint64_t>() { return DataType::kUInt64; }
template <> constexpr DataType dtype_of<bool>() { return DataType::kBool; }

// Calls f(T{}) for the numeric, non-bool dtypes arithmetic ops accept (never
// instantiating f for bool). Returns false for any other dtype.
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

// Calls f(T{}) with the C++ type of a numeric dtype or bool (float16/bfloat16
// excluded). Returns false when the dtype has no C++ mapping.
template <typename F>
bool dispatch_dtype(DataType t, F&& f) {
  if (t == DataType::kBool) {
    f(bool{});
    return true;
  }
  return dispatch_arithmetic(t, std::forward<F>(f));
}

}  // namespace onnx_mini
