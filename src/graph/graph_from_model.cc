// graph_from_model: a parsed ONNX model becomes the IR in named steps, each
// checking what it adds (as ONNX Runtime's Graph::Resolve runs
// VerifyNoDuplicateName, PerformTopologicalSortAndCheckIsAcyclic, ...). The
// order of the steps is the order in which a model with several faults has them
// reported, so it is part of the behaviour.
#include <algorithm>
#include <set>

#include "core/printable.h"
#include "graph/name_limits.h"
#include "graph/onnx_loader.h"
#include "graph/tensor_proto.h"

namespace onnx_mini {
namespace {

std::string normalize_domain(const std::string& d) { return d == "ai.onnx" ? "" : d; }

// A domain for messages: escaped, it comes from the model.
std::string domain_label(const std::string& d) { return d.empty() ? "ai.onnx" : printable(d); }

// "1", "2 to 3"
std::string count_range(int lo, int hi) {
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
}

// Very old models leave the attribute type unset: it follows from the field that is.
onnx::AttributeProto::AttributeType attribute_type(const onnx::AttributeProto& a) {
  using AP = onnx::AttributeProto;
  if (a.type() != AP::UNDEFINED) return a.type();
  if (a.has_f()) return AP::FLOAT;
  if (a.has_i()) return AP::INT;
  if (a.has_s()) return AP::STRING;
  if (a.has_t()) return AP::TENSOR;
  if (a.floats_size()) return AP::FLOATS;
  if (a.ints_size()) return AP::INTS;
  if (a.strings_size()) return AP::STRINGS;
  return AP::UNDEFINED;
}

Result<Attribute> convert_attribute(onnx::AttributeProto& a, const std::string& base_dir, const std::string& where) {
  Attribute out;
  using AP = onnx::AttributeProto;
  switch (attribute_type(a)) {
    case AP::FLOAT: out.kind = Attribute::Kind::kFloat; out.f = a.f(); break;
    case AP::INT: out.kind = Attribute::Kind::kInt; out.i = a.i(); break;
    case AP::STRING: out.kind = Attribute::Kind::kString; out.s = a.s(); break;
    case AP::FLOATS: out.kind = Attribute::Kind::kFloats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
    case AP::INTS: out.kind = Attribute::Kind::kInts; out.ints.assign(a.ints().begin(), a.ints().end()); break;
    case AP::STRINGS: out.kind = Attribute::Kind::kStrings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
    case AP::TENSOR: {
      out.kind = Attribute::Kind::kTensor;
      OM_ASSIGN_OR_RETURN(out.t, tensor_from_proto(*a.mutable_t(), TensorSource{base_dir, where + " attribute " + quote(a.name())}));
      break;
    }
    case AP::GRAPH: case AP::GRAPHS: out.kind = Attribute::Kind::kGraph; break;
    default: out.kind = Attribute::Kind::kOther; break;
  }
  return out;
}

Result<Dim> convert_dim(const onnx::TensorShapeProto::Dimension& d, const std::string& what) {
  Dim dim;
  if (d.has_dim_value()) {
    if (d.dim_value() < 0) return invalid_model(what + ": negative dimension " + std::to_string(d.dim_value()));
    dim.value = d.dim_value();
  } else if (d.has_dim_param()) {
    dim.param = d.dim_param();
  }
  return dim;
}

Result<TensorInfo> convert_type(const onnx::TypeProto& type, const std::string& what) {
  TensorInfo info;
  if (!type.has_tensor_type()) {
    if (type.value_case() == onnx::TypeProto::VALUE_NOT_SET) return info;  // unknown
    return unsupported(what + ": only tensor types are supported (not sequences, maps or optionals)");
  }
  const auto& tt = type.tensor_type();
  info.dtype = dtype_from_onnx(tt.elem_type());
  if (tt.elem_type() != 0 && info.dtype == DataType::kUndefined) {
    return invalid_model(what + ": unknown elem_type " + std::to_string(tt.elem_type()));
  }
  if (tt.elem_type() != 0 && !dtype_is_supported(info.dtype)) {
    return unsupported(what + ": " + unsupported_dtype_message(info.dtype));
  }
  if (!tt.has_shape()) return info;
  info.has_shape = true;
  for (const auto& d : tt.shape().dim()) {
    OM_ASSIGN_OR_RETURN(Dim dim, convert_dim(d, what));
    info.dims.push_back(std::move(dim));
  }
  OM_RETURN_IF_ERROR(check_known_dims(info).with_context(what + ": "));
  return info;
}

// Builds one Graph from one ModelProto (tensor bytes are moved out of it). Nodes
// are collected aside and added to the graph only once every one of them is
// wired and resolved, so the graph never holds a node without a definition.
//
// A subgraph attribute (If's branches, Loop's body) is built by a builder of
// its own whose `parent_` is the builder of the enclosing graph: a name the
// subgraph does not define resolves lexically, through the enclosing graphs,
// and becomes a captured value of each graph it passes through (bound from the
// node's implicit inputs at run time). Nesting is counted on the way down and
// refused past kMaxSubgraphDepth before it recurses further.
class GraphFromModel {
 public:
  GraphFromModel(onnx::ModelProto& model, const std::string& base_dir, const LoadOptions& options,
                 const std::vector<std::optional<MappedRawData>>* initializer_raw)
      : model_(model),
        graph_proto_(model.has_graph() ? model.mutable_graph() : nullptr),
        base_dir_(base_dir),
        options_(options),
        registry_(options.registry ? *options.registry : default_registry()),
        initializer_raw_(initializer_raw) {}

  // The builder of a subgraph held by an attribute of a node of `parent`.
  GraphFromModel(GraphFromModel& parent, onnx::GraphProto& graph)
      : model_(parent.model_),
        graph_proto_(&graph),
        base_dir_(parent.base_dir_),
        options_(parent.options_),
        registry_(parent.registry_),
        initializer_raw_(nullptr),
        parent_(&parent),
        depth_(parent.depth_ + 1),
        total_nodes_(parent.total_nodes_) {}

  Result<Graph> build() {
    OM_RETURN_IF_ERROR(check_model_header());
    OM_RETURN_IF_ERROR(check_name_lengths(model_));
    OM_RETURN_IF_ERROR(import_opsets());
    OM_RETURN_IF_ERROR(build_graph_body());
    OM_RETURN_IF_ERROR(infer_shapes(g_));
    return std::move(g_);
  }

  // A subgraph: inferred with its enclosing graph (infer_shapes recurses).
  Result<Graph> build_subgraph() {
    g_.opset_imports() = parent_->g_.opset_imports();
    g_.name = graph_proto().name();
    OM_RETURN_IF_ERROR(build_graph_body());
    return std::move(g_);
  }

  // The values this (sub)graph captured, as ids in the enclosing graph.
  const std::vector<ValueId>& outer_values() const { return outer_values_; }

 private:
  onnx::GraphProto& graph_proto() { return *graph_proto_; }

  Status build_graph_body() {
    OM_RETURN_IF_ERROR(check_node_count());
    OM_RETURN_IF_ERROR(add_initializers());
    OM_RETURN_IF_ERROR(add_graph_inputs());
    OM_RETURN_IF_ERROR(declare_node_outputs());
    OM_RETURN_IF_ERROR(apply_value_info());
    OM_RETURN_IF_ERROR(resolve_nodes());
    OM_RETURN_IF_ERROR(check_node_signatures());
    for (Node& n : nodes_) g_.add_node(std::move(n));
    OM_RETURN_IF_ERROR(add_graph_outputs());
    return g_.topological_order().status();
  }

  // The value a name denotes here: defined in this graph, or else in an
  // enclosing one (captured here, and in every graph between), or kNoId.
  ValueId resolve_name(const std::string& name) {
    ValueId v = g_.find_value(name);
    if (v != kNoId || !parent_) return v;
    ValueId outer = parent_->resolve_name(name);
    if (outer == kNoId) return kNoId;
    v = g_.add_value(name);
    g_.value(v).info = parent_->g_.value(outer).info;
    g_.value(v).is_captured = true;
    g_.captured().push_back(v);
    outer_values_.push_back(outer);
    return v;
  }

  Status check_model_header() {
    if (!model_.has_graph()) return invalid_model("the file has no graph: not an ONNX model (a TensorProto or other message?)");
    if (model_.ir_version() <= 0) return invalid_model("missing ir_version");
    if (model_.opset_import_size() == 0) return invalid_model("no opset_import: the model does not say which opset it uses");
    g_.ir_version = model_.ir_version();
    g_.producer_name = model_.producer_name();
    g_.name = graph_proto().name();
    return Status::ok();
  }

  Status import_opsets() {
    for (const auto& op : model_.opset_import()) {
      std::string domain = normalize_domain(op.domain());
      if (g_.opset_imports().count(domain)) return invalid_model("opset_import lists domain '" + domain_label(domain) + "' twice");
      // The field is int64; a value past int would wrap to a plausible opset (2^32 + 13 -> 13).
      if (op.version() < 0 || op.version() > 1'000'000) {
        return unsupported("opset_import: domain '" + domain_label(domain) + "' version " + std::to_string(op.version()) +
                           " is not supported");
      }
      g_.opset_imports()[domain] = static_cast<int>(op.version());
    }
    return Status::ok();
  }

  // Counted over the main graph and every subgraph together.
  Status check_node_count() {
    const int count = graph_proto().node_size();
    *total_nodes_ += count;
    if (*total_nodes_ <= options_.max_nodes) return Status::ok();
    if (parent_) {
      return resource_limit("the graph and its subgraphs have at least " + std::to_string(*total_nodes_) +
                            " nodes, above the limit of " + std::to_string(options_.max_nodes));
    }
    return resource_limit("the graph has " + std::to_string(count) + " nodes, above the limit of " +
                          std::to_string(options_.max_nodes));
  }

  // The payload strip_large_raw_data cut out of initializer i, if any.
  const MappedRawData* mapped_raw(int i) const {
    const size_t index = static_cast<size_t>(i);
    if (!initializer_raw_ || index >= initializer_raw_->size() || !(*initializer_raw_)[index]) return nullptr;
    return &*(*initializer_raw_)[index];
  }

  Status add_initializers() {
    onnx::GraphProto& gp = graph_proto();
    for (int i = 0; i < gp.initializer_size(); ++i) {
      onnx::TensorProto& init = *gp.mutable_initializer(i);
      if (init.name().empty()) return invalid_model("an initializer has no name");
      if (g_.find_value(init.name()) != kNoId) return invalid_model("initializer " + quote(init.name()) + " is defined twice");
      ValueId v = g_.add_value(init.name());
      OM_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(init, TensorSource{base_dir_, "initializer " + quote(init.name()), mapped_raw(i)}));
      g_.value(v).info = TensorInfo::of(t.dtype(), t.shape());
      g_.value(v).initializer = std::move(t);
    }
    if (gp.sparse_initializer_size()) return unsupported("sparse initializers are not supported");
    return Status::ok();
  }

  // An input that is also an initializer is an overridable default.
  Status add_graph_inputs() {
    std::set<std::string> seen;
    for (const auto& in : graph_proto().input()) {
      if (in.name().empty()) return invalid_model("a graph input has no name");
      if (!seen.insert(in.name()).second) return invalid_model("graph input " + quote(in.name()) + " is listed twice");
      OM_ASSIGN_OR_RETURN(TensorInfo info, convert_type(in.type(), "graph input " + quote(in.name())));
      ValueId v = g_.find_value(in.name());
      if (v == kNoId) {
        v = g_.add_value(in.name());
        g_.value(v).info = info;
      } else if (info.dtype != DataType::kUndefined && info.dtype != g_.value(v).info.dtype) {
        return invalid_model("graph input " + quote(in.name()) + " is declared " + dtype_name(info.dtype) +
                             " but its initializer is " + dtype_name(g_.value(v).info.dtype));
      }
      g_.value(v).is_graph_input = true;
      g_.inputs().push_back(v);
    }
    return Status::ok();
  }

  // Every node's outputs exist before any input is wired, so an input may name
  // the output of any node, in any order (a cycle is found by the sort).
  Status declare_node_outputs() {
    const onnx::GraphProto& gp = graph_proto();
    nodes_.resize(static_cast<size_t>(gp.node_size()));
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& np = gp.node(i);
      Node& n = nodes_[static_cast<size_t>(i)];
      n.name = np.name();
      n.op_type = np.op_type();
      n.domain = normalize_domain(np.domain());
      for (const auto& out : np.output()) {
        OM_ASSIGN_OR_RETURN(ValueId v, declare_output(n, out, static_cast<NodeId>(i)));
        n.outputs.push_back(v);
      }
    }
    return Status::ok();
  }

  Result<ValueId> declare_output(const Node& n, const std::string& out, NodeId producer) {
    if (out.empty()) return kNoId;  // an unused optional output
    ValueId existing = g_.find_value(out);
    if (existing != kNoId) {
      const Value& e = g_.value(existing);
      std::string other = e.producer != kNoId ? "another node" : e.initializer ? "an initializer" : "a graph input";
      return invalid_model(n.describe() + ": output " + quote(out) + " is already produced by " + other);
    }
    ValueId v = g_.add_value(out);
    g_.value(v).producer = producer;  // provisional; add_node rewires
    return v;
  }

  // Declared types of node outputs; information about anything else is ignored.
  Status apply_value_info() {
    for (const auto& vi : graph_proto().value_info()) {
      ValueId v = g_.find_value(vi.name());
      if (v == kNoId || g_.value(v).producer == kNoId) continue;
      OM_ASSIGN_OR_RETURN(g_.value(v).info, convert_type(vi.type(), "value_info " + quote(vi.name())));
    }
    return Status::ok();
  }

  // Inputs, attributes and definitions. A malformed node stops here; nodes that
  // are well-formed but cannot run are all listed in one error.
  Status resolve_nodes() {
    onnx::GraphProto& gp = graph_proto();
    std::string unsupported_list;
    int unsupported_count = 0;
    for (int i = 0; i < gp.node_size(); ++i) {
      onnx::NodeProto& np = *gp.mutable_node(i);
      Node& n = nodes_[static_cast<size_t>(i)];
      OM_RETURN_IF_ERROR(wire_inputs(np, n));
      const std::string why = resolve_definition(n);
      // Subgraphs of a node that cannot run are not built: listed, not explored.
      OM_RETURN_IF_ERROR(convert_attributes(np, n, /*build_subgraphs=*/why.empty()));
      if (why.empty()) continue;
      ++unsupported_count;
      unsupported_list += "\n  " + printable(n.op_type) + " (domain " + domain_label(n.domain) + ", opset " + std::to_string(n.opset) +
                          ") in " + n.describe() + ": " + why;
    }
    if (unsupported_count == 0) return Status::ok();
    return unsupported(std::to_string(unsupported_count) + " node(s) cannot run:" + unsupported_list);
  }

  Status wire_inputs(const onnx::NodeProto& np, Node& n) {
    for (const auto& in : np.input()) {
      if (in.empty()) {
        n.inputs.push_back(kNoId);  // an absent optional input
        continue;
      }
      ValueId v = resolve_name(in);
      if (v == kNoId) return invalid_model(n.describe() + ": input " + quote(in) + " is not defined by any node, initializer or graph input");
      n.inputs.push_back(v);
    }
    return Status::ok();
  }

  Status convert_attributes(onnx::NodeProto& np, Node& n, bool build_subgraphs) {
    for (auto& a : *np.mutable_attribute()) {
      if (n.attrs.has(a.name())) return invalid_model(n.describe() + ": attribute " + quote(a.name()) + " is given twice");
      OM_ASSIGN_OR_RETURN(Attribute attr, convert_attribute(a, base_dir_, n.describe()));
      if (attr.kind == Attribute::Kind::kGraph && build_subgraphs) OM_RETURN_IF_ERROR(add_subgraph(a, n));
      n.attrs.set(a.name(), std::move(attr));
    }
    return Status::ok();
  }

  // The attribute's graph, built here (its errors name the node and attribute,
  // one level per enclosing graph), and the outer values it reads.
  Status add_subgraph(onnx::AttributeProto& a, Node& n) {
    const std::string where = n.describe() + " attribute " + quote(a.name()) + ": ";
    if (attribute_type(a) == onnx::AttributeProto::GRAPHS) return unsupported(where + "lists of graphs (GRAPHS) are not supported");
    if (!a.has_g()) return invalid_model(where + "the graph attribute holds no graph");
    if (depth_ + 1 > kMaxSubgraphDepth) {
      return invalid_model(where + "subgraphs nest more than " + std::to_string(kMaxSubgraphDepth) +
                           " deep (If/Loop inside If/Loop ...), onnx-mini's limit");
    }
    GraphFromModel child(*this, *a.mutable_g());
    auto sub = child.build_subgraph();
    if (!sub.is_ok()) return sub.status().with_context(where);
    n.implicit_inputs.insert(n.implicit_inputs.end(), child.outer_values().begin(), child.outer_values().end());
    n.subgraphs.push_back(NodeSubgraph{a.name(), SubgraphPtr(std::make_unique<Graph>(std::move(sub).value()))});
    return Status::ok();
  }

  // Sets the node's opset and definition; returns why it cannot run, or "".
  std::string resolve_definition(Node& n) const {
    auto imported = g_.opset_imports().find(n.domain);
    if (imported == g_.opset_imports().end()) return "domain '" + domain_label(n.domain) + "' is not in opset_import";
    n.opset = imported->second;
    if (n.domain.empty() && (n.opset < kMinOnnxOpset || n.opset > kMaxOnnxOpset)) {
      return "ai.onnx opset " + std::to_string(n.opset) + " is not supported (onnx-mini runs opsets " +
             std::to_string(kMinOnnxOpset) + " to " + std::to_string(kMaxOnnxOpset) + ")";
    }
    if (!n.domain.empty() && n.domain != kOnnxMiniDomain) return "domain " + quote(n.domain) + " is not supported";
    if (!registry_.knows(n.op_type, n.domain)) return "unknown op";
    n.def = registry_.find(n.op_type, n.domain, n.opset);
    if (!n.def) return "not defined at opset " + std::to_string(n.opset) + " (onnx-mini implements a later version)";
    return "";
  }

  // Arity and attribute names against each node's definition.
  Status check_node_signatures() const {
    for (const Node& n : nodes_) {
      OM_RETURN_IF_ERROR(check_input_count(n));
      OM_RETURN_IF_ERROR(check_output_count(n));
      OM_RETURN_IF_ERROR(check_attribute_names(n));
    }
    return Status::ok();
  }

  static Status check_input_count(const Node& n) {
    const OpDef& d = *n.def;
    int given = static_cast<int>(n.inputs.size());
    while (given > 0 && n.inputs[static_cast<size_t>(given - 1)] == kNoId) --given;  // trailing absent optionals
    if (given < d.min_inputs || static_cast<int>(n.inputs.size()) > d.max_inputs) {
      return invalid_model(n.describe() + ": has " + std::to_string(n.inputs.size()) + " inputs, expected " +
                           count_range(d.min_inputs, d.max_inputs));
    }
    for (int i = 0; i < d.min_inputs; ++i) {
      if (n.inputs[static_cast<size_t>(i)] == kNoId) return invalid_model(n.describe() + ": required input " + std::to_string(i) + " is empty");
    }
    return Status::ok();
  }

  static Status check_output_count(const Node& n) {
    const OpDef& d = *n.def;
    const int count = static_cast<int>(n.outputs.size());
    if (count >= d.min_outputs && count <= d.max_outputs) return Status::ok();
    return invalid_model(n.describe() + ": has " + std::to_string(count) + " outputs, expected " +
                         count_range(d.min_outputs, d.max_outputs));
  }

  static Status check_attribute_names(const Node& n) {
    const std::vector<std::string>& allowed = n.def->attributes;
    for (const auto& [name, a] : n.attrs.all()) {
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return invalid_model(n.describe() + ": unknown attribute " + quote(name));
      }
    }
    return Status::ok();
  }

  // A graph output without a declared type of its own takes the declared one.
  Status add_graph_outputs() {
    std::set<std::string> seen;
    for (const auto& out : graph_proto().output()) {
      ValueId v = resolve_name(out.name());
      if (v == kNoId) return invalid_model("graph output " + quote(out.name()) + " is never produced");
      if (!seen.insert(out.name()).second) return invalid_model("graph output " + quote(out.name()) + " is listed twice");
      OM_ASSIGN_OR_RETURN(TensorInfo declared, convert_type(out.type(), "graph output " + quote(out.name())));
      Value& val = g_.value(v);
      if (val.producer != kNoId && val.info.dtype == DataType::kUndefined) val.info = declared;
      val.is_graph_output = true;
      g_.outputs().push_back(v);
    }
    if (g_.outputs().empty()) return invalid_model("the graph has no outputs");
    return Status::ok();
  }

  onnx::ModelProto& model_;
  onnx::GraphProto* graph_proto_;
  const std::string& base_dir_;
  const LoadOptions& options_;
  const OpRegistry& registry_;
  const std::vector<std::optional<MappedRawData>>* initializer_raw_;
  GraphFromModel* parent_ = nullptr;
  int depth_ = 0;  // 0 for the main graph
  std::shared_ptr<int64_t> total_nodes_ = std::make_shared<int64_t>(0);
  std::vector<ValueId> outer_values_;  // per captured value, its id in the parent
  Graph g_;
  std::vector<Node> nodes_;  // in file order; added to g_ once all are resolved
};

}  // namespace

Result<Graph> graph_from_model(onnx::ModelProto& model, const std::string& base_dir, const LoadOptions& options,
                               const std::vector<std::optional<MappedRawData>>* initializer_raw) {
  return GraphFromModel(model, base_dir, options, initializer_raw).build();
}

}  // namespace onnx_mini
