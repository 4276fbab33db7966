#include "graph/passes/fusion.h"

#include "graph/passes/pattern_pass.h"

namespace onnx_mini {

Fusion start_fusion(const Graph& g, std::vector<NodeId> matched, const std::string& op_type, const std::string& domain,
                    const std::string& name) {
  Fusion f{std::move(matched), make_node(g, op_type, domain, name)};
  if (!f.matched.empty()) f.node.outputs = g.node(f.matched.back()).outputs;
  return f;
}

NodeId finalize_fusion(Graph& g, Fusion fusion) {
  for (NodeId id : fusion.matched) g.remove_node(id);
  if (fusion.node.domain == kOnnxMiniDomain) g.opset_imports().emplace(kOnnxMiniDomain, 1);
  return g.add_node(std::move(fusion.node));
}

}  // namespace onnx_mini
