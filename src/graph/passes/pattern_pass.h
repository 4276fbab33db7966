// Pattern passes: a rule with a const `match` (cheap checks first, no mutation)
// and a `rewrite` that only mutates, run over the graph in topological order.
// Also the checks every fusion shares, so each rule reads like a checklist.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include "graph/passes/pass.h"

namespace onnx_mini {

// A Rule has:
//   static constexpr const char* kName;
//   std::optional<Match> match(const Graph&, NodeId) const;
//   Result<std::string> rewrite(Graph&, const Match&) const;  // the explain line
template <typename Rule>
class PatternPass final : public Pass {
 public:
  const char* name() const override { return Rule::kName; }
  Result<int> run(Graph& g, const PassContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
    int count = 0;
    for (NodeId id : order) {
      if (g.node(id).removed) continue;  // consumed by an earlier rewrite
      auto m = rule_.match(g, id);
      if (!m) continue;
      OM_ASSIGN_OR_RETURN(std::string line, rule_.rewrite(g, *m));
      ctx.explain(line);
      ++count;
    }
    return count;
  }

 private:
  Rule rule_;
};

// Live node of this op type and domain whose resolved definition is at least
// `min_since` (older definitions had other semantics or attributes).
bool is_op(const Node& n, const char* op_type, const char* domain, int min_since);
// Every attribute the node carries is one of `allowed`.
bool only_attributes(const Node& n, std::initializer_list<const char*> allowed);
// The value is float32 (as inferred).
bool is_float(const Graph& g, ValueId v);
// The value flows only into one node input and nowhere else (not a graph output
// or input): the intermediate of a fusion, safe to make disappear. Its consumer
// is g.sole_consumer(v).
bool is_private_intermediate(const Graph& g, ValueId v);
// Rank of v when known, else -1.
int64_t known_rank(const Graph& g, ValueId v);
// A node ready for add_node: op, domain, name, opset and definition resolved
// from the registry (def null when the registry lacks it at the graph's opset).
Node make_node(const Graph& g, const std::string& op_type, const std::string& domain, const std::string& name);
// "'fc1/relu'" or "(unnamed, output 'y')" for explain lines.
std::string quoted_name(const Graph& g, const Node& n);

}  // namespace onnx_mini
