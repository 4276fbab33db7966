// The graph IR: nodes and values addressed by ids. Every value knows its producer
// and its consumers, so passes can ask "one consumer? graph output?" in O(1).
// Removed nodes stay in the vector (marked removed) so ids stay stable during a pass.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ops/kernel.h"
#include "ops/registry.h"
#include "core/attributes.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

using NodeId = int32_t;
using ValueId = int32_t;
inline constexpr int32_t kNoId = -1;

struct Value {
  std::string name;
  TensorInfo info;               // dtype and (possibly symbolic) shape
  NodeId producer = kNoId;       // kNoId for graph inputs and initializers
  std::vector<NodeId> consumers; // one entry per consuming input slot
  std::optional<Tensor> initializer;
  // Set, with `initializer` reset, when a session let go of a constant that only
  // kernels holding their own packed copy read during runs: rebuilds the values
  // from that copy, for writing the model (graph/onnx_writer.cc) or for a new
  // session built from this graph (which puts them back as the initializer).
  std::function<Tensor()> rebuild_initializer;
  bool is_graph_input = false;   // fed by the caller (may also have an initializer default)
  bool is_graph_output = false;
  // A subgraph's reference to a value of an enclosing graph (bound at run time
  // from the node's implicit inputs; see Node::implicit_inputs).
  bool is_captured = false;
};

class Graph;

// A graph held by a node attribute (If's branches, Loop's body). Copying a node
// copies its subgraphs deeply, so a copied graph can be rewritten on its own.
class SubgraphPtr {
 public:
  SubgraphPtr();
  explicit SubgraphPtr(std::unique_ptr<Graph> g);
  SubgraphPtr(const SubgraphPtr& other);
  SubgraphPtr& operator=(const SubgraphPtr& other);
  SubgraphPtr(SubgraphPtr&&) noexcept;
  SubgraphPtr& operator=(SubgraphPtr&&) noexcept;
  ~SubgraphPtr();
  Graph& operator*() const { return *g_; }
  Graph* operator->() const { return g_.get(); }

 private:
  std::unique_ptr<Graph> g_;
};

struct NodeSubgraph {
  std::string attribute;  // "then_branch", "else_branch", "body"
  SubgraphPtr graph;
};

// The deepest nesting of subgraphs a model may have (the main graph is depth 0):
// checked while loading, before any recursion over the nesting, so a model
// cannot exhaust the stack. libprotobuf's own limit of 100 nested messages
// allows the same depth (each level is graph -> node -> attribute).
inline constexpr int kMaxSubgraphDepth = 32;

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;
  Attributes attrs;
  std::vector<ValueId> inputs;   // kNoId for an absent optional input
  std::vector<ValueId> outputs;  // kNoId for an unused optional output
  int opset = 0;                 // imported opset of the node's domain
  const OpDef* def = nullptr;    // resolved definition
  bool removed = false;
  // Subgraph attributes, in the model's order, and the values of this node's
  // graph they read from the outer scope: subgraph k's captured values
  // (Graph::captured()) are bound, in order, to the slice of implicit_inputs
  // after those of subgraphs 0..k-1. Implicit inputs are consumer links like
  // inputs, so the plan keeps them alive and no pass removes their producers.
  std::vector<NodeSubgraph> subgraphs;
  std::vector<ValueId> implicit_inputs;

  // "node 'fc1' (Gemm)"; unnamed nodes are described by their first output.
  std::string describe() const;
};

class Graph {
 public:
  // Values
  ValueId add_value(const std::string& name);
  ValueId find_value(const std::string& name) const;  // kNoId if absent
  Value& value(ValueId id) { return values_[static_cast<size_t>(id)]; }
  const Value& value(ValueId id) const { return values_[static_cast<size_t>(id)]; }
  size_t num_values() const { return values_.size(); }

  // Nodes
  NodeId add_node(Node node);  // wires producer/consumer links
  Node& node(NodeId id) { return nodes_[static_cast<size_t>(id)]; }
  const Node& node(NodeId id) const { return nodes_[static_cast<size_t>(id)]; }
  size_t num_node_slots() const { return nodes_.size(); }
  size_t num_live_nodes() const;
  void remove_node(NodeId id);  // unlinks it from its inputs' consumer lists
  void set_node_input(NodeId id, size_t slot, ValueId v);
  // Every consumer of `from` reads `to` instead (graph outputs are not moved).
  void replace_all_uses(ValueId from, ValueId to);

  // Queries used by passes (graph/passes/pattern_pass.h builds its checks on them)
  bool has_single_consumer(ValueId v) const { return value(v).consumers.size() == 1; }
  // The node reading v when exactly one node input does, else kNoId.
  NodeId sole_consumer(ValueId v) const { return has_single_consumer(v) ? value(v).consumers[0] : kNoId; }
  bool is_graph_output(ValueId v) const { return value(v).is_graph_output; }
  // Nothing reads v: no node input and not a graph output.
  bool is_unused(ValueId v) const { return value(v).consumers.empty() && !is_graph_output(v); }
  bool is_constant(ValueId v) const;  // initializer not overridable by the caller
  const Tensor* constant_value(ValueId v) const;
  int opset(const std::string& domain) const;

  // Graph interface
  std::vector<ValueId>& inputs() { return inputs_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  std::vector<ValueId>& outputs() { return outputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  // In a subgraph: the values it reads from enclosing graphs, in binding order.
  std::vector<ValueId>& captured() { return captured_; }
  const std::vector<ValueId>& captured() const { return captured_; }
  std::map<std::string, int>& opset_imports() { return opset_imports_; }
  const std::map<std::string, int>& opset_imports() const { return opset_imports_; }

  // Live nodes in a topological order; an error names a node on a cycle.
  Result<std::vector<NodeId>> topological_order() const;

  std::string name;
  int64_t ir_version = 0;
  std::string producer_name;
  std::string source_path;  // where it was loaded from, for messages

 private:
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::map<std::string, ValueId> by_name_;
  std::vector<ValueId> inputs_, outputs_, captured_;
  std::map<std::string, int> opset_imports_;
};

// Puts back, as initializers, the values of constants a session let go of
// (Value::rebuild_initializer): for a copy of a session's graph that passes
// will rewrite again (a new session, the portable form), where constant_value()
// must see every constant. Costs the unpacked weights' memory.
void restore_released_initializers(Graph& g);

// Checks the invariants passes must keep: SSA (one producer per value),
// producer/consumer links consistent, acyclic, inputs defined, resolved defs.
Status verify_graph(const Graph& g);

// The first implicit input of subgraph k of n (see Node::implicit_inputs).
size_t implicit_input_offset(const Node& n, size_t k);

// Infers dtype and shape of every node output in topological order, merging with
// shapes the model declared. Errors carry the node's description.
Status infer_shapes(Graph& g);
// The known dims of a declared or inferred shape must fit a tensor that could
// exist (checked_num_elements over them), so shape formulas over them cannot overflow.
Status check_known_dims(const TensorInfo& info);

}  // namespace onnx_mini
