#include "onnx_run/tensor_values.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/half.h"

namespace onnx_mini::onnx_run {
namespace {

uint16_t bits16(const Tensor& t, int64_t i) { return static_cast<const uint16_t*>(t.raw_data())[i]; }

// bfloat16 is the high half of a float32.
double bfloat16_to_double(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

double element_as_double(const Tensor& t, int64_t i) {
  if (t.dtype() == DataType::kFloat16) return half_to_double(bits16(t, i));
  if (t.dtype() == DataType::kBFloat16) return bfloat16_to_double(bits16(t, i));
  double v = NAN;
  dispatch_dtype(t.dtype(), [&](auto tag) { v = static_cast<double>(t.data<decltype(tag)>()[i]); });
  return v;
}

std::string element_text(const Tensor& t, int64_t i) {
  char buf[40];
  if (dtype_is_integer(t.dtype()) || t.dtype() == DataType::kBool) {
    std::string text;
    dispatch_dtype(t.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, bool>) {
        text = t.data<bool>()[i] ? "1" : "0";
      } else if constexpr (std::is_integral_v<T>) {
        text = std::to_string(t.data<T>()[i]);
      }
    });
    return text;
  }
  const double v = element_as_double(t, i);
  if (t.dtype() != DataType::kDouble) {
    std::snprintf(buf, sizeof buf, "%.9g", v);  // enough for float and the 16-bit floats
    return buf;
  }
  for (int digits = 15; digits <= 17; ++digits) {  // the shortest that reads back as v
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v || std::isnan(v)) break;
  }
  return buf;
}

}  // namespace onnx_mini::onnx_run
