#pragma once

#include <memory>
#include <vector>

#include "graph/passes/pass.h"

namespace onnx_mini {

// The passes of an optimisation level, in the order they run.
std::vector<std::unique_ptr<Pass>> default_passes(int opt_level);

// Runs the default passes, then re-infers shapes; verifies after each pass when asked.
Status optimize_graph(Graph& g, const PassContext& ctx);

}  // namespace onnx_mini
