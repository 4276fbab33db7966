#include "runtime/plan.h"

namespace onnx_mini {

namespace {

// Per value: the last step that reads it, or -1 when no step does.
std::vector<int64_t> last_reading_step(const Graph& g, const std::vector<NodeId>& order) {
  std::vector<int64_t> last_use(g.num_values(), -1);
  for (size_t s = 0; s < order.size(); ++s) {
    const Node& n = g.node(order[s]);
    for (ValueId in : n.inputs) {
      if (in != kNoId) last_use[static_cast<size_t>(in)] = static_cast<int64_t>(s);
    }
    // A value a subgraph reads is live until the node that runs the subgraph is done.
    for (ValueId in : n.implicit_inputs) last_use[static_cast<size_t>(in)] = static_cast<int64_t>(s);
  }
  return last_use;
}

}  // namespace

ExecutionPlan make_plan(const Graph& g, std::vector<NodeId> order) {
  ExecutionPlan plan;
  plan.order = std::move(order);
  const size_t steps = plan.order.size();
  plan.value_slot.assign(g.num_values(), -1);
  plan.release_after.assign(steps, {});
  std::vector<int64_t> last_use = last_reading_step(g, plan.order);

  std::vector<int> free_slots;
  for (size_t s = 0; s < steps; ++s) {
    const Node& n = g.node(plan.order[s]);
    for (ValueId out : n.outputs) {
      if (out == kNoId) continue;
      const Value& v = g.value(out);
      if (v.is_graph_output || free_slots.empty()) {
        plan.value_slot[static_cast<size_t>(out)] = plan.num_slots++;
      } else {
        plan.value_slot[static_cast<size_t>(out)] = free_slots.back();
        free_slots.pop_back();
      }
      // An output nobody reads dies right after its own step.
      if (last_use[static_cast<size_t>(out)] < 0 && !v.is_graph_output) plan.release_after[s].push_back(out);
    }
    // Inputs whose last reader is this step free their slot for later steps.
    auto release_if_last = [&](ValueId in) {
      if (in == kNoId || last_use[static_cast<size_t>(in)] != static_cast<int64_t>(s)) return;
      last_use[static_cast<size_t>(in)] = -2;  // release once even if read twice by this node
      plan.release_after[s].push_back(in);
    };
    for (ValueId in : n.inputs) release_if_last(in);
    for (ValueId in : n.implicit_inputs) release_if_last(in);
    for (ValueId v : plan.release_after[s]) {
      int slot = plan.value_slot[static_cast<size_t>(v)];
      if (slot >= 0 && !g.value(v).is_graph_output) free_slots.push_back(slot);
    }
  }
  return plan;
}

}  // namespace onnx_mini
