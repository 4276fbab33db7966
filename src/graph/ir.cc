#include "graph/ir.h"

#include <algorithm>
#include <deque>

#include "core/printable.h"

namespace onnx_mini {

std::string Node::describe() const {
  // Names, op types and domains come from the model: escaped (core/printable.h).
  std::string who = name.empty() ? std::string("(unnamed)") : quote(name);
  return "node " + who + " (" + (domain.empty() ? "" : printable(domain) + ".") + printable(op_type) + ")";
}

SubgraphPtr::SubgraphPtr() : g_(std::make_unique<Graph>()) {}
SubgraphPtr::SubgraphPtr(std::unique_ptr<Graph> g) : g_(std::move(g)) {}
SubgraphPtr::SubgraphPtr(const SubgraphPtr& other) : g_(std::make_unique<Graph>(*other.g_)) {}
SubgraphPtr& SubgraphPtr::operator=(const SubgraphPtr& other) {
  if (this != &other) g_ = std::make_unique<Graph>(*other.g_);
  return *this;
}
SubgraphPtr::SubgraphPtr(SubgraphPtr&&) noexcept = default;
SubgraphPtr& SubgraphPtr::operator=(SubgraphPtr&&) noexcept = default;
SubgraphPtr::~SubgraphPtr() = default;

size_t implicit_input_offset(const Node& n, size_t k) {
  size_t offset = 0;
  for (size_t i = 0; i < k && i < n.subgraphs.size(); ++i) offset += n.subgraphs[i].graph->captured().size();
  return offset;
}

ValueId Graph::add_value(const std::string& name) {
  ValueId id = static_cast<ValueId>(values_.size());
  values_.push_back(Value{});
  values_.back().name = name;
  if (!name.empty()) by_name_[name] = id;
  return id;
}

ValueId Graph::find_value(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? kNoId : it->second;
}

NodeId Graph::add_node(Node node) {
  NodeId id = static_cast<NodeId>(nodes_.size());
  for (ValueId in : node.inputs) {
    if (in != kNoId) value(in).consumers.push_back(id);
  }
  for (ValueId in : node.implicit_inputs) value(in).consumers.push_back(id);
  for (ValueId out : node.outputs) {
    if (out != kNoId) value(out).producer = id;
  }
  nodes_.push_back(std::move(node));
  return id;
}

size_t Graph::num_live_nodes() const {
  return static_cast<size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const Node& n) { return !n.removed; }));
}

void Graph::remove_node(NodeId id) {
  Node& n = node(id);
  if (n.removed) return;
  auto unlink = [&](ValueId in) {
    if (in == kNoId) return;
    auto& c = value(in).consumers;
    auto it = std::find(c.begin(), c.end(), id);
    if (it != c.end()) c.erase(it);
  };
  for (ValueId in : n.inputs) unlink(in);
  for (ValueId in : n.implicit_inputs) unlink(in);
  for (ValueId out : n.outputs) {
    if (out != kNoId && value(out).producer == id) value(out).producer = kNoId;
  }
  n.removed = true;
}

void Graph::set_node_input(NodeId id, size_t slot, ValueId v) {
  Node& n = node(id);
  ValueId old = n.inputs[slot];
  if (old != kNoId) {
    auto& c = value(old).consumers;
    auto it = std::find(c.begin(), c.end(), id);
    if (it != c.end()) c.erase(it);
  }
  n.inputs[slot] = v;
  if (v != kNoId) value(v).consumers.push_back(id);
}

void Graph::replace_all_uses(ValueId from, ValueId to) {
  std::vector<NodeId> consumers = value(from).consumers;
  for (NodeId c : consumers) {
    Node& n = node(c);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] == from) set_node_input(c, i, to);
    }
    // Subgraphs bind captured values by position, so renaming is safe here.
    for (ValueId& in : n.implicit_inputs) {
      if (in != from) continue;
      auto& old = value(from).consumers;
      old.erase(std::find(old.begin(), old.end(), c));
      in = to;
      value(to).consumers.push_back(c);
    }
  }
}

bool Graph::is_constant(ValueId v) const {
  const Value& val = value(v);
  return val.initializer.has_value() && !val.is_graph_input;
}

const Tensor* Graph::constant_value(ValueId v) const {
  return is_constant(v) ? &*value(v).initializer : nullptr;
}

void restore_released_initializers(Graph& g) {
  for (size_t v = 0; v < g.num_values(); ++v) {
    Value& val = g.value(static_cast<ValueId>(v));
    if (!val.initializer && val.rebuild_initializer) val.initializer = val.rebuild_initializer();
    val.rebuild_initializer = nullptr;
  }
  // Subgraphs pack their weights too (depth bounded at load: kMaxSubgraphDepth).
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    for (NodeSubgraph& sub : g.node(static_cast<NodeId>(i)).subgraphs) restore_released_initializers(*sub.graph);
  }
}

int Graph::opset(const std::string& domain) const {
  auto it = opset_imports_.find(domain);
  return it == opset_imports_.end() ? 0 : it->second;
}

Result<std::vector<NodeId>> Graph::topological_order() const {
  // Kahn's algorithm over live nodes; in-degree counts producing nodes only.
  std::vector<int> indegree(nodes_.size(), 0);
  std::deque<NodeId> ready;
  size_t live = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.removed) continue;
    ++live;
    for (ValueId in : n.inputs) {
      if (in != kNoId && value(in).producer != kNoId) ++indegree[i];
    }
    for (ValueId in : n.implicit_inputs) {
      if (value(in).producer != kNoId) ++indegree[i];
    }
    if (indegree[i] == 0) ready.push_back(static_cast<NodeId>(i));
  }
  std::vector<NodeId> order;
  order.reserve(live);
  while (!ready.empty()) {
    NodeId id = ready.front();
    ready.pop_front();
    order.push_back(id);
    for (ValueId out : node(id).outputs) {
      if (out == kNoId) continue;
      for (NodeId c : value(out).consumers) {
        if (--indegree[static_cast<size_t>(c)] == 0) ready.push_back(c);
      }
    }
  }
  if (order.size() != live) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].removed && indegree[i] > 0) {
        return invalid_model("the graph has a cycle through " + nodes_[i].describe());
      }
    }
  }
  return order;
}

namespace {

bool is_defined(const Value& v) { return v.producer != kNoId || v.initializer || v.is_graph_input || v.is_captured; }

Status verify_node_input(const Graph& g, const Node& n, NodeId id, ValueId in) {
  const Value& v = g.value(in);
  if (!is_defined(v)) return internal_error(n.describe() + ": input " + quote(v.name) + " is not defined");
  const auto reads = std::count(n.inputs.begin(), n.inputs.end(), in) +
                     std::count(n.implicit_inputs.begin(), n.implicit_inputs.end(), in);
  if (std::count(v.consumers.begin(), v.consumers.end(), id) != reads) {
    return internal_error(n.describe() + ": consumer links of " + quote(v.name) + " are inconsistent");
  }
  if (v.producer != kNoId && g.node(v.producer).removed) {
    return internal_error(n.describe() + ": input " + quote(v.name) + " comes from a removed node");
  }
  return Status::ok();
}

// Each subgraph is a graph of its own, and binds one implicit input per captured value.
Status verify_subgraphs(const Node& n) {
  size_t captured = 0;
  for (const NodeSubgraph& sub : n.subgraphs) {
    captured += sub.graph->captured().size();
    Status s = verify_graph(*sub.graph);
    if (!s.is_ok()) return s.with_context(n.describe() + " attribute " + quote(sub.attribute) + ": ");
  }
  if (captured != n.implicit_inputs.size()) {
    return internal_error(n.describe() + ": " + std::to_string(n.implicit_inputs.size()) + " implicit inputs for " +
                          std::to_string(captured) + " captured values");
  }
  return Status::ok();
}

}  // namespace

Status verify_graph(const Graph& g) {
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.removed) continue;
    if (!n.def) return internal_error(n.describe() + " has no resolved definition");
    for (ValueId in : n.inputs) {
      if (in != kNoId) OM_RETURN_IF_ERROR(verify_node_input(g, n, static_cast<NodeId>(i), in));
    }
    for (ValueId in : n.implicit_inputs) OM_RETURN_IF_ERROR(verify_node_input(g, n, static_cast<NodeId>(i), in));
    OM_RETURN_IF_ERROR(verify_subgraphs(n));
    for (ValueId out : n.outputs) {
      if (out != kNoId && g.value(out).producer != static_cast<NodeId>(i)) {
        return internal_error(n.describe() + ": output " + quote(g.value(out).name) + " has another producer");
      }
    }
  }
  for (ValueId out : g.outputs()) {
    const Value& v = g.value(out);
    if (!is_defined(v)) {
      return internal_error("graph output " + quote(v.name) + " is not produced");
    }
  }
  auto order = g.topological_order();
  if (!order.is_ok()) return internal_error(order.status().message());
  return Status::ok();
}

}  // namespace onnx_mini
