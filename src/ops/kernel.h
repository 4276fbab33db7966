// The contract between the executor and an op implementation.
//
// A Kernel is created once per node when the session is built (attributes parsed,
// constant weights prepared) and is stateless afterwards: run() is const.
#pragma once

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/tensor_info.h"

namespace onnx_mini {

class PackedWeightRequests;
class ThreadPool;

// What the executor offers a kernel during one run.
class KernelContext {
 public:
  virtual ~KernelContext() = default;
  virtual int num_inputs() const = 0;
  // Null for an absent optional input (empty name in the model, or past the end).
  virtual const Tensor* input(int i) const = 0;
  virtual int num_outputs() const = 0;
  // False for an optional output the model does not use (empty name).
  virtual bool output_wanted(int i) const = 0;
  // Storage for output i with this shape (from the memory plan; reused across runs).
  // Contents are unspecified: kernels write every element.
  virtual Result<Tensor*> output(int i, const Shape& shape, DataType dtype) = 0;
  // Same from dims that are not a Shape (`ctx.output(0, {m, n}, t)` picks this
  // overload): the executor overrides output_dims so no temporary Shape is built
  // per run; other contexts (test doubles) get the Shape-building default.
  Result<Tensor*> output(int i, std::initializer_list<int64_t> dims, DataType dtype) {
    return output_dims(i, std::span<const int64_t>(dims.begin(), dims.size()), dtype);
  }
  virtual Result<Tensor*> output_dims(int i, std::span<const int64_t> dims, DataType dtype) {
    return output(i, Shape(dims.begin(), dims.end()), dtype);
  }
  virtual const std::string& node_name() const = 0;
  // The session's worker threads, for kernels that split their work; null
  // when the kernel runs outside a session (then it runs on the calling thread).
  virtual ThreadPool* thread_pool() const { return nullptr; }
  // Per-run storage private to this node, beside its outputs: scratch tensor i
  // of this node in this run's frame, with unspecified contents. Reused by the
  // node's later runs (grown when a larger size is asked for), never shared
  // with a concurrent run. The pointer stays valid for the whole run, also
  // after the node asks for other scratch indices. Outside a session: an error.
  virtual Result<Tensor*> scratch(int i, std::span<const int64_t> dims, DataType dtype);

  // The node's subgraphs (If's branches, Loop's body), by their index in
  // NodeInfo::subgraphs, each compiled once by the session and run on a frame
  // of this run's own: bind its formal inputs through subgraph_input (a tensor
  // the kernel assigns, e.g. a view of its scratch), run it, read its outputs.
  // Values it reads from outer scopes are bound by the executor, by reference.
  // An output stays valid until the next run of the same subgraph. Outside a
  // session: an error.
  virtual Result<Tensor*> subgraph_input(int graph, int i);
  virtual Status run_subgraph(int graph);
  virtual Result<const Tensor*> subgraph_output(int graph, int i);
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual Status run(KernelContext& ctx) const = 0;
  // False when run() never reads input i because the kernel holds its own
  // prepared copy of it (a packed weight): the session then lets go of that
  // initializer's memory if no other node reads it.
  virtual bool reads_input_at_run(int i) const {
    (void)i;
    return true;
  }
};

// The interface of one subgraph of a node: its formal inputs and its outputs,
// as inferred (the enclosing graph's values it reads are not listed).
struct SubgraphSignature {
  std::string attribute;  // "then_branch", "else_branch", "body"
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

// What a kernel factory and a shape-inference function see of a node.
struct NodeInfo {
  std::string op_type;
  std::string domain;
  std::string name;
  int opset = 0;          // the model's imported opset for this domain
  int since_version = 0;  // the version of the definition that was chosen
  const Attributes* attributes = nullptr;
  std::vector<const TensorInfo*> inputs;  // null for absent optional inputs
  int num_outputs = 0;
  // Where a kernel asks for a constant weight to be packed (null outside a
  // session: the kernel then packs it itself).
  PackedWeightRequests* packed_weights = nullptr;
  std::vector<SubgraphSignature> subgraphs;  // in the model's attribute order

  const Attributes& attrs() const { return *attributes; }
  // The subgraph of attribute `name`, or null.
  const SubgraphSignature* subgraph(const std::string& name) const {
    for (const SubgraphSignature& s : subgraphs) {
      if (s.attribute == name) return &s;
    }
    return nullptr;
  }
  int subgraph_index(const std::string& name) const {
    for (size_t i = 0; i < subgraphs.size(); ++i) {
      if (subgraphs[i].attribute == name) return static_cast<int>(i);
    }
    return -1;
  }
  const TensorInfo* input(size_t i) const { return i < inputs.size() ? inputs[i] : nullptr; }
};

}  // namespace onnx_mini
