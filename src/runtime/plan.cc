#include "runtime/plan.h"

#include <unordered_set>

#include "core/shape.h"

namespace onnx_mini {

namespace {

// A value a Concat may have written into its output: made by a node of this
// graph (not a subgraph's), read by that Concat alone and only once, its size
// along the axis known.
bool placeable(const Graph& g, ValueId v, NodeId concat, int64_t rank, int64_t axis,
               const std::unordered_set<ValueId>& concat_outputs) {
  if (v == kNoId) return false;
  const Value& val = g.value(v);
  if (val.producer == kNoId || val.is_graph_input || val.is_graph_output || val.initializer || val.is_captured) {
    return false;
  }
  if (val.consumers.size() != 1 || val.consumers[0] != concat) return false;
  // A Concat's output is not placed in another Concat (its own inputs may be
  // placed in it): one level of placement.
  if (concat_outputs.count(v)) return false;
  if (!g.node(val.producer).subgraphs.empty()) return false;
  const TensorInfo& info = val.info;
  return info.has_shape && static_cast<int64_t>(info.dims.size()) == rank && info.dims[static_cast<size_t>(axis)].known();
}

// ConcatPlacement for the inputs of every Concat that can take them.
std::vector<ConcatPlacement> concat_placements(const Graph& g, const std::vector<NodeId>& order) {
  std::vector<ConcatPlacement> placement(g.num_values());
  std::unordered_set<ValueId> concat_outputs;
  auto is_concat = [&](const Node& n) {
    return n.op_type == "Concat" && (n.domain.empty() || n.domain == "ai.onnx") && n.outputs.size() == 1 &&
           n.outputs[0] != kNoId && n.inputs.size() >= 2;
  };
  for (NodeId id : order) {
    if (is_concat(g.node(id))) concat_outputs.insert(g.node(id).outputs[0]);
  }
  for (NodeId id : order) {
    const Node& n = g.node(id);
    if (!is_concat(n)) continue;
    const Value& whole = g.value(n.outputs[0]);
    if (whole.is_graph_output || !whole.info.has_shape) continue;
    const auto rank = static_cast<int64_t>(whole.info.dims.size());
    const Result<int64_t> requested = n.attrs.require_int("axis");
    if (!requested.is_ok()) continue;
    const Result<int64_t> axis = normalize_axis(requested.value(), rank);
    if (!axis.is_ok()) continue;
    std::unordered_set<ValueId> seen;
    bool all = true;
    int64_t total = 0;
    for (ValueId in : n.inputs) {
      all = all && seen.insert(in).second && placeable(g, in, id, rank, axis.value(), concat_outputs);
      if (!all) break;
      total += g.value(in).info.dims[static_cast<size_t>(axis.value())].value;
      if (total > (int64_t{1} << 40)) all = false;  // no product below can overflow
    }
    if (!all) continue;
    int64_t begin = 0;
    for (ValueId in : n.inputs) {
      const int64_t size = g.value(in).info.dims[static_cast<size_t>(axis.value())].value;
      placement[static_cast<size_t>(in)] = {n.outputs[0], rank, axis.value(), begin, size, total};
      begin += size;
    }
  }
  return placement;
}

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
  plan.placement = concat_placements(g, plan.order);

  std::vector<int> free_slots;
  auto take_slot = [&](ValueId v) {
    if (plan.value_slot[static_cast<size_t>(v)] >= 0) return;  // a Concat's, taken by its first input
    if (g.value(v).is_graph_output || free_slots.empty()) {
      plan.value_slot[static_cast<size_t>(v)] = plan.num_slots++;
    } else {
      plan.value_slot[static_cast<size_t>(v)] = free_slots.back();
      free_slots.pop_back();
    }
  };
  for (size_t s = 0; s < steps; ++s) {
    const Node& n = g.node(plan.order[s]);
    for (ValueId out : n.outputs) {
      if (out == kNoId) continue;
      const Value& v = g.value(out);
      // A placed input takes no slot (the frame gives it a buffer of its own
      // in a run that cannot place it), but its Concat's output must hold its
      // place from now on, in the slot freed last (most likely still cached).
      if (ValueId whole = plan.placement[static_cast<size_t>(out)].whole; whole != kNoId) {
        take_slot(whole);
      } else {
        take_slot(out);
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
