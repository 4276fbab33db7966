// Compiling a graph into what its runs read: the memory plan, one kernel per
// node, the packed weights, and for every node with subgraphs (If, Loop) the
// same for each subgraph, recursively (depth bounded at load, kMaxSubgraphDepth).
#pragma once

#include <string>

#include "graph/ir.h"
#include "runtime/execution_frame.h"
#include "runtime/prepared_weights.h"

namespace onnx_mini {

struct CompileSettings {
  ThreadPool* pool = nullptr;
  int64_t max_memory_bytes = 0;  // per frame: the main graph's, and each subgraph frame's
  int64_t max_subgraph_runs = 0;  // per run of each frame
  std::string where;             // message prefix, e.g. "model.onnx: "
};

// Fills `steps` for `g` (which must outlive them). Returns what packing did,
// summed over the subgraphs.
Result<PreparedWeightStats> compile_steps(Graph& g, ExecutionSteps& steps, const CompileSettings& settings);

}  // namespace onnx_mini
