// The end every fusion shares (ONNX Runtime's FinalizeNodeFusion; tract builds
// the same thing as a patch applied at once): one new node replaces the matched
// nodes and writes the outputs of the last of them under their original names,
// so the graph's consumers and outputs need no rewiring.
//
// A rewrite starts the fusion, fills in what is particular to it (attributes,
// inputs), then finalizes it:
//   Fusion f = start_fusion(g, {m.gemm, m.act}, "FusedGemm", kOnnxMiniDomain, gemm.name);
//   f.node.attrs = ...;  f.node.inputs = ...;
//   finalize_fusion(g, std::move(f));
#pragma once

#include <string>
#include <vector>

#include "graph/ir.h"

namespace onnx_mini {

struct Fusion {
  std::vector<NodeId> matched;  // in data-flow order; the last one's outputs become the fused node's
  Node node;                    // the replacement
};

// The replacement for `matched`: op, domain and opset resolved as make_node
// does, named `name`, writing the outputs of matched.back(). Attributes and
// inputs are the caller's to set.
Fusion start_fusion(const Graph& g, std::vector<NodeId> matched, const std::string& op_type, const std::string& domain,
                    const std::string& name);

// Removes the matched nodes and adds the replacement (declaring onnx-mini's
// domain in opset_import when the replacement is one of its ops). Returns the
// new node's id.
NodeId finalize_fusion(Graph& g, Fusion fusion);

// The general patch, for rewrites that are not N-to-1 (an expansion is 1-to-N):
// removes `remove`, then adds `add` in order, declaring onnx-mini's domain when
// an added node is in it. The added nodes must write the removed nodes' outputs
// (same value ids) or fresh values. Returns the added nodes' ids.
std::vector<NodeId> replace_nodes(Graph& g, const std::vector<NodeId>& remove, std::vector<Node> add);

}  // namespace onnx_mini
