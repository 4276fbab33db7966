// EliminateDeadNodes: removes nodes none of whose outputs is read by another
// node or is a graph output. Visiting in reverse topological order removes a
// whole dead chain in one run (consumers go first, then their producers).
#include <algorithm>

#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

class EliminateDeadNodes final : public Pass {
 public:
  const char* name() const override { return "EliminateDeadNodes"; }

  static bool is_dead(const Graph& g, const Node& n) {
    return std::all_of(n.outputs.begin(), n.outputs.end(), [&](ValueId out) {
      return out == kNoId || g.is_unused(out);
    });
  }

  Result<int> run(Graph& g, const PassContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
    int removed = 0;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const Node& n = g.node(*it);
      if (!is_dead(g, n)) continue;
      ctx.explain("removed unused " + n.op_type + " " + quoted_name(g, n));
      g.remove_node(*it);
      ++removed;
    }
    return removed;
  }
};

}  // namespace

std::unique_ptr<Pass> make_eliminate_dead_nodes() { return std::make_unique<EliminateDeadNodes>(); }

}  // namespace onnx_mini
