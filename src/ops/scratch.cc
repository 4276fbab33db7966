#include "ops/scratch.h"

#include <array>

#include "core/tensor.h"

namespace onnx_mini {

float* thread_scratch(ScratchSlot slot, int64_t floats) {
  thread_local std::array<Buffer, static_cast<size_t>(ScratchSlot::kCount)> buffers;
  Buffer& b = buffers[static_cast<size_t>(slot)];
  b.reserve(static_cast<size_t>(floats > 0 ? floats : 1) * sizeof(float));
  return static_cast<float*>(b.data());
}

}  // namespace onnx_mini
