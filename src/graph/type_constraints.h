// Load-time check of the ONNX type constraints that tie several inputs of a node
// to one dtype (Add's A and B are both `T`): a float + int64 Add is an invalid
// model, reported with the node and both inputs before any kernel runs.
#pragma once

#include "graph/ir.h"

namespace onnx_mini {

// Invalid model when two inputs of `node` that share a type parameter in its
// ONNX definition have different known dtypes. Ops without such a constraint
// (and dtypes not known yet) pass.
Status check_shared_input_types(const Graph& g, const Node& node);

}  // namespace onnx_mini
