#include "graph/onnx_writer.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "core/atomic_file.h"
#include "graph/tensor_proto.h"

namespace onnx_mini {
namespace {

void write_type(const TensorInfo& info, onnx::TypeProto& type) {
  auto* tt = type.mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(info.dtype));
  if (!info.has_shape) return;
  auto* shape = tt->mutable_shape();
  for (const Dim& d : info.dims) {
    auto* dim = shape->add_dim();
    if (d.known()) dim->set_dim_value(d.value);
    else if (!d.param.empty()) dim->set_dim_param(d.param);
  }
}

void write_attribute(const std::string& name, const Attribute& a, onnx::AttributeProto& p) {
  using AP = onnx::AttributeProto;
  p.set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kFloat: p.set_type(AP::FLOAT); p.set_f(a.f); break;
    case Attribute::Kind::kInt: p.set_type(AP::INT); p.set_i(a.i); break;
    case Attribute::Kind::kString: p.set_type(AP::STRING); p.set_s(a.s); break;
    case Attribute::Kind::kTensor: p.set_type(AP::TENSOR); tensor_to_proto(a.t, "", *p.mutable_t()); break;
    case Attribute::Kind::kFloats: p.set_type(AP::FLOATS); for (float f : a.floats) p.add_floats(f); break;
    case Attribute::Kind::kInts: p.set_type(AP::INTS); for (int64_t i : a.ints) p.add_ints(i); break;
    case Attribute::Kind::kStrings: p.set_type(AP::STRINGS); for (const auto& s : a.strings) p.add_strings(s); break;
    default: break;  // graphs are written from Node::subgraphs; others are refused at load time
  }
}

// Whether a live node of g or of any of its subgraphs is in onnx-mini's domain.
bool uses_own_domain(const Graph& g) {
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& n = g.node(static_cast<NodeId>(i));
    if (n.removed) continue;
    if (n.domain == kOnnxMiniDomain) return true;
    for (const NodeSubgraph& sub : n.subgraphs) {
      if (uses_own_domain(*sub.graph)) return true;
    }
  }
  return false;
}

// The graph's imports, plus onnx-mini's domain when a fused op uses it.
void write_opset_imports(const Graph& g, onnx::ModelProto& model) {
  for (const auto& [domain, version] : g.opset_imports()) {
    auto* op = model.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  if (uses_own_domain(g) && !g.opset_imports().count(kOnnxMiniDomain)) {
    auto* op = model.add_opset_import();
    op->set_domain(kOnnxMiniDomain);
    op->set_version(1);
  }
}

// The names values are written by: their own, except that a subgraph's
// captured values take the names of the enclosing values they are bound to
// (a pass may have renamed those, e.g. removing an Identity).
class ValueNames {
 public:
  explicit ValueNames(const Graph& g) : g_(g) {}
  ValueNames(const Graph& sub, const ValueNames& outer_names, const Node& n, size_t k) : g_(sub) {
    const size_t offset = implicit_input_offset(n, k);
    for (size_t j = 0; j < sub.captured().size(); ++j) {
      captured_[sub.captured()[j]] = outer_names(n.implicit_inputs[offset + j]);
    }
  }
  const std::string& operator()(ValueId v) const {
    auto it = captured_.find(v);
    return it == captured_.end() ? g_.value(v).name : it->second;
  }

 private:
  const Graph& g_;
  std::map<ValueId, std::string> captured_;
};

void write_value_info(const Graph& g, const ValueNames& names, ValueId v, onnx::ValueInfoProto& out) {
  out.set_name(names(v));
  write_type(g.value(v).info, *out.mutable_type());
}

// Initializers still read by a live node or exposed as graph input/output; one
// a session released (only packed kernels read it) is unpacked for the write,
// then freed again.
void write_initializers(const Graph& g, onnx::GraphProto& gp) {
  for (size_t i = 0; i < g.num_values(); ++i) {
    const ValueId v = static_cast<ValueId>(i);
    const Value& val = g.value(v);
    if (!val.initializer && !val.rebuild_initializer) continue;
    if (g.is_unused(v) && !val.is_graph_input) continue;
    if (val.initializer) {
      tensor_to_proto(*val.initializer, val.name, *gp.add_initializer());
    } else {
      tensor_to_proto(val.rebuild_initializer(), val.name, *gp.add_initializer());
    }
  }
}

void write_graph(const Graph& g, const ValueNames& names, onnx::GraphProto& gp);

// The node, and the inferred types of its outputs (graph outputs are declared separately).
void write_node(const Graph& g, const ValueNames& names, const Node& n, onnx::GraphProto& gp) {
  auto* np = gp.add_node();
  np->set_name(n.name);
  np->set_op_type(n.op_type);
  np->set_domain(n.domain);
  for (ValueId in : n.inputs) np->add_input(in == kNoId ? "" : names(in));
  for (ValueId out : n.outputs) np->add_output(out == kNoId ? "" : names(out));
  for (const auto& [name, a] : n.attrs.all()) {
    if (a.kind != Attribute::Kind::kGraph) write_attribute(name, a, *np->add_attribute());
  }
  for (size_t k = 0; k < n.subgraphs.size(); ++k) {
    auto* attr = np->add_attribute();
    attr->set_name(n.subgraphs[k].attribute);
    attr->set_type(onnx::AttributeProto::GRAPH);
    const Graph& sub = *n.subgraphs[k].graph;
    write_graph(sub, ValueNames(sub, names, n, k), *attr->mutable_g());
  }
  for (ValueId out : n.outputs) {
    if (out == kNoId || g.is_graph_output(out) || g.value(out).info.dtype == DataType::kUndefined) continue;
    write_value_info(g, names, out, *gp.add_value_info());
  }
}

// Inputs, initializers, nodes in a topological order, outputs. Recursion
// through subgraphs is bounded by kMaxSubgraphDepth (checked at load).
void write_graph(const Graph& g, const ValueNames& names, onnx::GraphProto& gp) {
  auto order = g.topological_order();
  const std::vector<NodeId> nodes = order.is_ok() ? order.value() : std::vector<NodeId>{};
  gp.set_name(g.name.empty() ? "onnx_mini_graph" : g.name);
  for (ValueId v : g.inputs()) write_value_info(g, names, v, *gp.add_input());
  write_initializers(g, gp);
  for (NodeId id : nodes) write_node(g, names, g.node(id), gp);
  for (ValueId v : g.outputs()) write_value_info(g, names, v, *gp.add_output());
}

}  // namespace

void graph_to_model(const Graph& g, onnx::ModelProto& model) {
  model.Clear();
  model.set_ir_version(g.ir_version > 0 ? g.ir_version : 8);
  model.set_producer_name("onnx-mini");
  model.set_producer_version(ONNX_MINI_VERSION);
  write_opset_imports(g, model);
  write_graph(g, ValueNames(g), *model.mutable_graph());
}

Status save_onnx_file(const Graph& g, const std::string& path) {
  onnx::ModelProto model;
  graph_to_model(g, model);
  // All or nothing, never through a symbolic link, durable before it is reported
  // written (core/atomic_file.h); streamed, so the model is not copied once more.
  OM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path, {.durable = true}));
  google::protobuf::io::FileOutputStream stream(file.fd());
  const bool serialized = model.SerializeToZeroCopyStream(&stream);
  if (!stream.Flush() || stream.GetErrno() != 0) return file.failed(stream.GetErrno() ? stream.GetErrno() : EIO);
  if (!serialized) return internal_error(path + ": protobuf could not serialize the model (larger than 2 GiB?)");
  return file.commit();
}

}  // namespace onnx_mini
