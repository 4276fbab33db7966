// Output comparison for --check: |got - ref| <= atol + rtol * |ref| for floats,
// NaN matches NaN, Inf must match exactly; integers and bools exactly.
#pragma once

#include <string>

#include "core/tensor.h"

namespace onnx_mini::onnx_run {

struct Comparison {
  bool pass = true;
  std::string problem;      // shape/dtype mismatch, empty otherwise
  int64_t worst_index = -1; // element with the largest error relative to its tolerance
  double got = 0, expected = 0, abs_err = 0, rel_err = 0;
  int64_t mismatches = 0;
};

Comparison compare_tensors(const Tensor& got, const Tensor& expected, double atol, double rtol);

}  // namespace onnx_mini::onnx_run
