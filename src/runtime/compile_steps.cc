#include "runtime/compile_steps.h"

#include "core/printable.h"
#include "graph/node_info.h"
#include "runtime/plan.h"

namespace onnx_mini {
namespace {

void add_stats(PreparedWeightStats& total, const PreparedWeightStats& more) {
  total.packed_weights += more.packed_weights;
  total.packed_bytes += more.packed_bytes;
  total.released_initializers += more.released_initializers;
  total.released_bytes += more.released_bytes;
}

// Each subgraph of node n, compiled before n's kernel (which may look at them).
Result<PreparedWeightStats> compile_subgraphs(Node& n, ExecutionSteps::Step& step, const CompileSettings& settings) {
  PreparedWeightStats stats;
  for (NodeSubgraph& sub : n.subgraphs) {
    CompileSettings inner = settings;
    inner.where = settings.where + n.describe() + " attribute " + quote(sub.attribute) + ": ";
    auto steps = std::make_unique<ExecutionSteps>();
    OM_ASSIGN_OR_RETURN(PreparedWeightStats more, compile_steps(*sub.graph, *steps, inner));
    add_stats(stats, more);
    step.subgraphs.push_back(std::move(steps));
  }
  return stats;
}

}  // namespace

Result<PreparedWeightStats> compile_steps(Graph& g, ExecutionSteps& steps, const CompileSettings& settings) {
  OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  steps.graph = &g;
  steps.plan = make_plan(g, std::move(order));
  steps.pool = settings.pool;
  steps.max_memory_bytes = settings.max_memory_bytes;
  steps.max_subgraph_runs = settings.max_subgraph_runs;
  steps.where = settings.where;
  NodeInfoBuilder builder;
  PackedWeightRequests requests;
  PreparedWeightStats stats;
  std::vector<std::pair<NodeId, const Kernel*>> kernels;
  for (NodeId id : steps.plan.order) {
    Node& n = g.node(id);
    ExecutionSteps::Step step{id, nullptr, {}};
    OM_ASSIGN_OR_RETURN(PreparedWeightStats inner, compile_subgraphs(n, step, settings));
    add_stats(stats, inner);
    NodeInfo info = builder.build(g, id);
    info.packed_weights = &requests;
    auto kernel = n.def->create(info);
    if (!kernel.is_ok()) return kernel.status().with_context(settings.where + n.describe() + ": ");
    step.kernel = std::move(kernel).value();
    kernels.emplace_back(id, step.kernel.get());
    steps.steps.push_back(std::move(step));
  }
  add_stats(stats, prepare_weights(g, kernels, requests));
  return stats;
}

}  // namespace onnx_mini
