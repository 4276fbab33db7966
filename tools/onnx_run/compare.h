// Output comparison for --check: |got - ref| <= atol + rtol * |ref| for the
// float dtypes (float16, bfloat16, float, double), NaN matches NaN, Inf must
// match exactly; integers and bools exactly, in their own type.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini::onnx_run {

struct Comparison {
  bool pass = true;
  std::string problem;      // shape/dtype mismatch, empty otherwise
  int64_t worst_index = -1; // element with the largest error relative to its tolerance
  std::string got_text, expected_text;  // those elements, written exactly
  double abs_err = 0, rel_err = 0;
  int64_t mismatches = 0;
};

// kUnsupported for a dtype without a comparison (none the loader accepts: a
// test walks its list).
Result<Comparison> compare_tensors(const Tensor& got, const Tensor& expected, double atol, double rtol);

}  // namespace onnx_mini::onnx_run
