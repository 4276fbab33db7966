#include "ops/kernel.h"

#include "core/printable.h"

namespace onnx_mini {

// A kernel run outside a session (a test's context) has no frame to keep
// per-run storage in.
Result<Tensor*> KernelContext::scratch(int i, std::span<const int64_t> dims, DataType dtype) {
  return internal_error("node " + quote(node_name()) + ": per-run scratch " + std::to_string(i) + " (" + dtype_name(dtype) +
                        ", rank " + std::to_string(dims.size()) + ") is only available inside a session");
}

// Subgraphs are compiled by a session; a test's context (or constant folding)
// has none, so a control-flow node cannot run there.
Result<Tensor*> KernelContext::subgraph_input(int graph, int i) {
  return internal_error("node " + quote(node_name()) + ": input " + std::to_string(i) + " of subgraph " +
                        std::to_string(graph) + ": subgraphs only run inside a session");
}

Status KernelContext::run_subgraph(int graph) {
  return internal_error("node " + quote(node_name()) + ": subgraph " + std::to_string(graph) +
                        " only runs inside a session");
}

Result<const Tensor*> KernelContext::subgraph_output(int graph, int i) {
  return internal_error("node " + quote(node_name()) + ": output " + std::to_string(i) + " of subgraph " +
                        std::to_string(graph) + ": subgraphs only run inside a session");
}

}  // namespace onnx_mini
