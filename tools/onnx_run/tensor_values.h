// Reading the elements of a tensor of any dtype the loader accepts, for
// printing (text and --json), --stats and --check.
#pragma once

#include <optional>
#include <string>

#include "core/tensor.h"

namespace onnx_mini::onnx_run {

// Element i as a double: exact for float16, bfloat16, float, double and
// integers up to 2^53 (larger 64-bit integers round; --check compares those in
// their own type). NaN for a dtype without numeric elements.
double element_as_double(const Tensor& t, int64_t i);

// Element i written exactly: integers in full, floats with enough digits to
// read back the same value (%.9g; for double the shortest of 15 to 17 digits).
std::string element_text(const Tensor& t, int64_t i);

}  // namespace onnx_mini::onnx_run
