// Softmax over one contiguous float row: the function the Softmax kernel runs
// on every row of a softmax over the last axis (ops/softmax.cc), each output
// faithfully rounded, -inf entries giving 0. For kernels that normalise rows
// themselves (the fused attention), so that their results equal Softmax's bit
// for bit.
#pragma once

#include <cstdint>

namespace onnx_mini {

// y[0, n) = softmax(x[0, n)); y may be x (each element is read before it is written).
void softmax_row(const float* x, float* y, int64_t n);

}  // namespace onnx_mini
