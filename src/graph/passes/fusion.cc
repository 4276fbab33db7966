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
  std::vector<Node> add;
  add.push_back(std::move(fusion.node));
  return replace_nodes(g, fusion.matched, std::move(add)).front();
}

std::vector<NodeId> replace_nodes(Graph& g, const std::vector<NodeId>& remove, std::vector<Node> add) {
  for (NodeId id : remove) g.remove_node(id);
  std::vector<NodeId> added;
  added.reserve(add.size());
  for (Node& n : add) {
    if (n.domain == kOnnxMiniDomain) g.opset_imports().emplace(kOnnxMiniDomain, 1);
    added.push_back(g.add_node(std::move(n)));
  }
  return added;
}

}  // namespace onnx_mini
