#include "ops/kernel.h"

#include "core/printable.h"

namespace onnx_mini {

// A kernel run outside a session (a test's context) has no frame to keep
// per-run storage in.
Result<Tensor*> KernelContext::scratch(int i, std::span<const int64_t> dims, DataType dtype) {
  return internal_error("node " + quote(node_name()) + ": per-run scratch " + std::to_string(i) + " (" + dtype_name(dtype) +
                        ", rank " + std::to_string(dims.size()) + ") is only available inside a session");
}

}  // namespace onnx_mini
