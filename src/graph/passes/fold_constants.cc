// FoldConstants: a node whose inputs are all constant is run once, at build
// time, with the registry's own kernel, and its outputs become initializers
// (Shape/Gather/Unsqueeze/Concat chains on known shapes, Transpose of a weight,
// Constant nodes). Shape and Size of an input whose shape inference knows fully
// fold too, although the input's data is not constant. Outputs larger than the cap stay computed at run time, so a
// small expression cannot blow up into a huge initializer. Nodes whose outputs
// are graph outputs are left alone (the caller expects them computed), as are
// random ops. A kernel that fails here is left for run time, where it reports
// its error with the usual context.
#include <algorithm>
#include <optional>

#include "core/printable.h"
#include "graph/node_info.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

bool is_nondeterministic(const Node& n) {
  static const char* const kRandom[] = {"Dropout", "RandomNormal", "RandomUniform", "RandomNormalLike",
                                        "RandomUniformLike", "Multinomial", "Bernoulli"};
  return n.domain == kOnnxDomain &&
         std::any_of(std::begin(kRandom), std::end(kRandom), [&](const char* op) { return n.op_type == op; });
}

// Runs one kernel on initializer inputs, allocating fresh outputs under a byte cap.
class FoldContext final : public KernelContext {
 public:
  FoldContext(const Graph& g, const Node& n, int64_t max_bytes) : g_(g), n_(n), max_bytes_(max_bytes) {
    outputs_.resize(n.outputs.size());
  }
  int num_inputs() const override { return static_cast<int>(n_.inputs.size()); }
  const Tensor* input(int i) const override {
    if (i < 0 || i >= num_inputs() || n_.inputs[static_cast<size_t>(i)] == kNoId) return nullptr;
    return g_.constant_value(n_.inputs[static_cast<size_t>(i)]);
  }
  int num_outputs() const override { return static_cast<int>(n_.outputs.size()); }
  bool output_wanted(int i) const override {
    return i >= 0 && i < num_outputs() && n_.outputs[static_cast<size_t>(i)] != kNoId;
  }
  Result<Tensor*> output(int i, const Shape& shape, DataType dtype) override {
    if (i < 0 || i >= num_outputs()) return internal_error("output index out of range");
    OM_ASSIGN_OR_RETURN(int64_t count, checked_num_elements(shape));
    if (count > max_bytes_ / static_cast<int64_t>(std::max<size_t>(dtype_size(dtype), 1))) {
      return resource_limit("folded output above the size cap");
    }
    outputs_[static_cast<size_t>(i)] = Tensor::allocate(dtype, shape);
    return &outputs_[static_cast<size_t>(i)];
  }
  const std::string& node_name() const override { return n_.name; }
  std::vector<Tensor>& outputs() { return outputs_; }

 private:
  const Graph& g_;
  const Node& n_;
  int64_t max_bytes_;
  std::vector<Tensor> outputs_;
};

// Shape and Size read only the shape of their input: when inference knows it
// fully, they are constants even though the input's data is not.
std::optional<Tensor> static_shape_value(const Graph& g, const Node& n) {
  if (n.domain != kOnnxDomain || (n.op_type != "Shape" && n.op_type != "Size") || n.inputs.size() != 1 ||
      n.inputs[0] == kNoId) {
    return std::nullopt;
  }
  const TensorInfo& in = g.value(n.inputs[0]).info;
  if (!in.fully_known()) return std::nullopt;
  const Shape dims = in.concrete_shape();
  const int64_t rank = static_cast<int64_t>(dims.size());
  if (n.op_type == "Size") {
    auto count = checked_num_elements(dims);
    if (!count.is_ok()) return std::nullopt;
    Tensor t = Tensor::allocate(DataType::kInt64, {});
    t.data<int64_t>()[0] = count.value();
    return t;
  }
  // Shape-15 start/end: negative counts from the back, then clamped to [0, rank].
  auto start = n.attrs.get_int("start", 0);
  auto end = n.attrs.get_int("end", rank);
  if (!start.is_ok() || !end.is_ok()) return std::nullopt;
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t b = clamp(start.value()), e = std::max(clamp(end.value()), clamp(start.value()));
  Tensor t = Tensor::allocate(DataType::kInt64, {e - b});
  for (int64_t i = b; i < e; ++i) t.data<int64_t>()[i - b] = dims[static_cast<size_t>(i)];
  return t;
}

// The node's outputs become initializers holding `values` (one per output slot,
// absent outputs skipped) and the node goes. Returns " 'name' dtype[shape]" per
// output, for the explain line.
std::string replace_with_constants(Graph& g, NodeId id, std::vector<Tensor> values) {
  const std::vector<ValueId> outs = g.node(id).outputs;
  g.remove_node(id);
  std::string described;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (outs[i] == kNoId) continue;
    Value& v = g.value(outs[i]);
    v.info = TensorInfo::of(values[i].dtype(), values[i].shape());
    described += " " + quote(v.name) + " " + v.info.to_string();
    v.initializer = std::move(values[i]);
  }
  return described;
}

class FoldConstants final : public Pass {
 public:
  explicit FoldConstants(int64_t max_bytes) : max_bytes_(max_bytes) {}
  const char* name() const override { return "FoldConstants"; }

  // Every input constant, deterministic, some output and none a graph output.
  bool match(const Graph& g, NodeId id) const {
    const Node& n = g.node(id);
    // A node with subgraphs runs them through a session only (and may read
    // values that are not constant through them).
    if (n.removed || !n.def || !n.def->create || is_nondeterministic(n) || !n.subgraphs.empty()) return false;
    for (ValueId in : n.inputs) {
      if (in != kNoId && !g.is_constant(in)) return false;
    }
    bool any_output = false;
    for (ValueId out : n.outputs) {
      if (out == kNoId) continue;
      if (g.is_graph_output(out)) return false;
      any_output = true;
    }
    return any_output;
  }

  Result<int> run(Graph& g, const PassContext& ctx) const override {
    OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
    NodeInfoBuilder builder;
    int folded = 0;
    for (NodeId id : order) {
      if (g.node(id).removed) continue;
      std::optional<std::string> line = fold_known_shape(g, id);
      if (!line) line = fold_by_running(g, id, builder);
      if (!line) continue;
      ctx.explain(*line);
      ++folded;
    }
    return folded;
  }

 private:
  // Shape or Size of an input whose shape is fully known.
  static std::optional<std::string> fold_known_shape(Graph& g, NodeId id) {
    const Node& n = g.node(id);
    if (n.outputs.size() != 1 || n.outputs[0] == kNoId || g.is_graph_output(n.outputs[0])) return std::nullopt;
    std::optional<Tensor> t = static_shape_value(g, n);
    if (!t) return std::nullopt;
    std::string line = "folded " + n.op_type + " " + quoted_name(g, n) + " of known shape into constant";
    std::vector<Tensor> values;
    values.push_back(std::move(*t));
    return line + replace_with_constants(g, id, std::move(values));
  }

  // Any other node with constant inputs: run its kernel once, now. A kernel that
  // cannot be made, fails, or leaves an output unset is left for run time.
  std::optional<std::string> fold_by_running(Graph& g, NodeId id, NodeInfoBuilder& builder) const {
    if (!match(g, id)) return std::nullopt;
    const Node& n = g.node(id);
    auto kernel = n.def->create(builder.build(g, id));
    if (!kernel.is_ok()) return std::nullopt;
    FoldContext fc(g, n, max_bytes_);
    if (!kernel.value()->run(fc).is_ok()) return std::nullopt;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (n.outputs[i] != kNoId && !fc.outputs()[i].defined()) return std::nullopt;
    }
    std::string line = "folded " + n.op_type + " " + quoted_name(g, n) + " into constant";
    return line + replace_with_constants(g, id, std::move(fc.outputs()));
  }

  int64_t max_bytes_;
};

}  // namespace

std::unique_ptr<Pass> make_fold_constants(int64_t max_output_bytes) {
  return std::make_unique<FoldConstants>(max_output_bytes);
}

}  // namespace onnx_mini
