#include "core/dtype.h"

namespace onnx_mini {

size_t dtype_size(DataType t) {
  switch (t) {
    case DataType::kFloat: case DataType::kInt32: case DataType::kUInt32: return 4;
    case DataType::kDouble: case DataType::kInt64: case DataType::kUInt64: case DataType::kComplex64: return 8;
    case DataType::kInt16: case DataType::kUInt16: case DataType::kFloat16: case DataType::kBFloat16: return 2;
    case DataType::kInt8: case DataType::kUInt8: case DataType::kBool: return 1;
    case DataType::kComplex128: return 16;
    case DataType::kFloat8E4M3FN: case DataType::kFloat8E4M3FNUZ: case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ: return 1;
    default: return 0;  // string, undefined, and the sub-byte int4/uint4/float4 (packed two to a byte)
  }
}

bool dtype_is_supported(DataType t) {
  for (DataType s : kSupportedDtypes) {
    if (s == t) return true;
  }
  return false;
}

std::string unsupported_dtype_message(DataType t) {
  std::string why;
  switch (t) {
    case DataType::kFloat8E4M3FN: case DataType::kFloat8E4M3FNUZ: case DataType::kFloat8E5M2:
    case DataType::kFloat8E5M2FNUZ: case DataType::kFloat4E2M1: case DataType::kUInt4: case DataType::kInt4:
      why = " (onnx-mini has no float8, float4, int4 or uint4 kernels: convert the model to float32 or float16)";
      break;
    case DataType::kString: why = " (onnx-mini tensors are numeric or bool)"; break;
    case DataType::kComplex64: case DataType::kComplex128: why = " (onnx-mini has no complex kernels)"; break;
    default: break;
  }
  return "dtype " + dtype_name(t) + " is not supported" + why;
}

bool dtype_is_half(DataType t) { return t == DataType::kFloat16 || t == DataType::kBFloat16; }

bool dtype_is_float(DataType t) {
  return t == DataType::kFloat || t == DataType::kDouble || t == DataType::kFloat16 ||
         t == DataType::kBFloat16;
}

bool dtype_is_integer(DataType t) {
  switch (t) {
    case DataType::kInt64: case DataType::kInt32: case DataType::kInt16: case DataType::kInt8:
    case DataType::kUInt8: case DataType::kUInt16: case DataType::kUInt32: case DataType::kUInt64:
      return true;
    default:
      return false;
  }
}

std::string dtype_name(DataType t) {
  switch (t) {
    case DataType::kUndefined: return "undefined";
    case DataType::kFloat: return "float";
    case DataType::kUInt8: return "uint8";
    case DataType::kInt8: return "int8";
    case DataType::kUInt16: return "uint16";
    case DataType::kInt16: return "int16";
    case DataType::kInt32: return "int32";
    case DataType::kInt64: return "int64";
    case DataType::kString: return "string";
    case DataType::kBool: return "bool";
    case DataType::kFloat16: return "float16";
    case DataType::kDouble: return "double";
    case DataType::kUInt32: return "uint32";
    case DataType::kUInt64: return "uint64";
    case DataType::kComplex64: return "complex64";
    case DataType::kComplex128: return "complex128";
    case DataType::kBFloat16: return "bfloat16";
    case DataType::kFloat8E4M3FN: return "float8e4m3fn";
    case DataType::kFloat8E4M3FNUZ: return "float8e4m3fnuz";
    case DataType::kFloat8E5M2: return "float8e5m2";
    case DataType::kFloat8E5M2FNUZ: return "float8e5m2fnuz";
    case DataType::kUInt4: return "uint4";
    case DataType::kInt4: return "int4";
    case DataType::kFloat4E2M1: return "float4e2m1";
  }
  return "dtype(" + std::to_string(static_cast<int>(t)) + ")";
}

DataType dtype_from_onnx(int32_t v) {
  if (v < 0 || v > static_cast<int32_t>(DataType::kFloat4E2M1)) return DataType::kUndefined;
  return static_cast<DataType>(v);
}

}  // namespace onnx_mini
