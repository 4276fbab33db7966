// Attribute values for tests that build IR nodes directly (not through ONNX protos).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"

namespace onnx_mini::testing {

inline Attribute float_attr(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
inline Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::kInt;
  a.i = v;
  return a;
}
inline Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::Kind::kString;
  a.s = v;
  return a;
}

inline Attribute ints_attr(const std::vector<int64_t>& v) {
  Attribute a;
  a.kind = Attribute::Kind::kInts;
  a.ints = v;
  return a;
}

}  // namespace onnx_mini::testing
