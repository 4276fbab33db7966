#include "core/tensor_info.h"

#include <algorithm>

namespace onnx_mini {

TensorInfo TensorInfo::of(DataType t, const Shape& s) {
  TensorInfo info;
  info.dtype = t;
  info.has_shape = true;
  for (int64_t d : s) info.dims.push_back(Dim{d, ""});
  return info;
}

bool TensorInfo::fully_known() const {
  if (!has_shape) return false;
  return std::all_of(dims.begin(), dims.end(), [](const Dim& d) { return d.known(); });
}

Shape TensorInfo::concrete_shape() const {
  Shape s;
  for (const Dim& d : dims) s.push_back(d.value);
  return s;
}

std::string TensorInfo::to_string() const {
  std::string s = dtype_name(dtype);
  if (!has_shape) return s + "[?]";
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    s += dims[i].known() ? std::to_string(dims[i].value) : (dims[i].param.empty() ? "?" : dims[i].param);
  }
  return s + "]";
}

}  // namespace onnx_mini
