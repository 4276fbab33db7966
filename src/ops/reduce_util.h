// Axis lists read from attributes or tensors, shared by the reduce, squeeze
// and slice families: every value range-checked, duplicates rejected.
#pragma once

#include <string>
#include <vector>

#include "core/shape.h"
#include "core/tensor.h"

namespace onnx_mini {

// Normalises axes against rank; `what` names the source for messages
// ("attribute 'axes'", "input 'axes'").
inline Result<std::vector<int64_t>> normalize_axes(const std::vector<int64_t>& axes, int64_t rank,
                                                   const std::string& what) {
  std::vector<int64_t> out;
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return bad_input(what + ": axis " + std::to_string(a) + " out of range [" + std::to_string(-rank) + ", " +
                       std::to_string(rank) + ")");
    }
    int64_t n = a < 0 ? a + rank : a;
    if (seen[static_cast<size_t>(n)]) return bad_input(what + ": axis " + std::to_string(a) + " repeated");
    seen[static_cast<size_t>(n)] = true;
    out.push_back(n);
  }
  return out;
}

// The values of a 1-D (or scalar) int64/int32 tensor.
inline Result<std::vector<int64_t>> read_int_list(const Tensor& t, const std::string& what) {
  if (t.rank() > 1) return bad_input(what + " must be 1-D, got " + describe(t));
  std::vector<int64_t> v(static_cast<size_t>(t.num_elements()));
  if (t.dtype() == DataType::kInt64) {
    for (size_t i = 0; i < v.size(); ++i) v[i] = t.data<int64_t>()[i];
  } else if (t.dtype() == DataType::kInt32) {
    for (size_t i = 0; i < v.size(); ++i) v[i] = t.data<int32_t>()[i];
  } else {
    return bad_input(what + " must be int64 or int32, got " + describe(t));
  }
  return v;
}

}  // namespace onnx_mini
