// Shape inference through subgraph attributes (If's branches, Loop's body),
// run by infer_shapes before the node's own inference, which then reads the
// subgraphs' inferred outputs from NodeInfo::subgraphs.
#pragma once

#include "graph/ir.h"

namespace onnx_mini {

// Types each subgraph of node `id`: its captured values from the enclosing
// graph's values, its formal inputs from what the op passes them (Loop: the
// iteration number, the condition, the loop-carried values; If: none), then
// everything inside, recursively. A formal-input count that does not match
// the op's convention is an invalid model.
Status infer_subgraphs(Graph& g, NodeId id);

}  // namespace onnx_mini
