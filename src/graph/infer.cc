// Load-time dtype and shape inference over the IR.
#include "core/printable.h"
#include "graph/infer_subgraphs.h"
#include "graph/ir.h"
#include "graph/node_info.h"
#include "graph/type_constraints.h"

namespace onnx_mini {
namespace {

// Merges an inferred info into what the model declared: declared dims fill in
// what inference could not know; a contradiction is an error.
Status merge_info(const TensorInfo& inferred, TensorInfo& declared, const std::string& value_name) {
  if (declared.dtype != DataType::kUndefined && inferred.dtype != DataType::kUndefined &&
      declared.dtype != inferred.dtype) {
    return invalid_model("output " + quote(value_name) + " is declared " + dtype_name(declared.dtype) +
                         " but computes " + dtype_name(inferred.dtype));
  }
  TensorInfo merged = inferred;
  if (merged.dtype == DataType::kUndefined) merged.dtype = declared.dtype;
  if (declared.has_shape) {
    if (!merged.has_shape) {
      merged.has_shape = true;
      merged.dims = declared.dims;
    } else if (merged.dims.size() != declared.dims.size()) {
      return invalid_model("output " + quote(value_name) + " is declared with shape " + declared.to_string() +
                           " but computes " + inferred.to_string());
    } else {
      for (size_t i = 0; i < merged.dims.size(); ++i) {
        Dim& m = merged.dims[i];
        const Dim& d = declared.dims[i];
        if (m.known() && d.known() && m.value != d.value) {
          return invalid_model("output " + quote(value_name) + " is declared with shape " + declared.to_string() +
                               " but computes " + inferred.to_string());
        }
        if (!m.known() && (d.known() || m.param.empty())) m = d;
      }
    }
  }
  merged.constant = nullptr;
  declared = merged;
  return Status::ok();
}

}  // namespace

Status check_known_dims(const TensorInfo& info) {
  if (!info.has_shape) return Status::ok();
  Shape known;
  for (const Dim& d : info.dims) {
    if (d.known()) known.push_back(d.value);
  }
  return checked_num_elements(known).status();
}

Status infer_shapes(Graph& g) {
  OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
  NodeInfoBuilder builder;
  for (NodeId id : order) {
    Node& n = g.node(id);
    // Before the op's own inference, which may assume its inputs agree.
    OM_RETURN_IF_ERROR(check_shared_input_types(g, n));
    if (!n.subgraphs.empty()) OM_RETURN_IF_ERROR(infer_subgraphs(g, id));
    const NodeInfo& info = builder.build(g, id);
    std::vector<TensorInfo> outputs(n.outputs.size());
    Status s = n.def->infer ? n.def->infer(info, outputs) : Status::ok();
    if (!s.is_ok()) return s.with_context(n.describe() + ": ");
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (n.outputs[i] == kNoId) continue;
      Value& v = g.value(n.outputs[i]);
      OM_RETURN_IF_ERROR(merge_info(outputs[i], v.info, v.name).with_context(n.describe() + ": "));
      // Checked before the next node's formulas multiply these dims.
      OM_RETURN_IF_ERROR(check_known_dims(v.info).with_context(n.describe() + ": output " + quote(v.name) + ": "));
    }
  }
  return Status::ok();
}

const NodeInfo& NodeInfoBuilder::build(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  infos_.clear();
  infos_.reserve(n.inputs.size());
  info_ = NodeInfo{};
  info_.op_type = n.op_type;
  info_.domain = n.domain;
  info_.name = n.name;
  info_.opset = n.opset;
  info_.since_version = n.def ? n.def->since_version : 0;
  info_.attributes = &n.attrs;
  info_.num_outputs = static_cast<int>(n.outputs.size());
  for (ValueId in : n.inputs) {
    if (in == kNoId) {
      infos_.emplace_back();
      continue;
    }
    TensorInfo t = g.value(in).info;
    t.constant = g.constant_value(in);
    infos_.push_back(std::move(t));
  }
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    info_.inputs.push_back(n.inputs[i] == kNoId ? nullptr : &infos_[i]);
  }
  for (const NodeSubgraph& sub : n.subgraphs) {
    SubgraphSignature& s = info_.subgraphs.emplace_back();
    s.attribute = sub.attribute;
    for (ValueId v : sub.graph->inputs()) s.inputs.push_back(sub.graph->value(v).info);
    for (ValueId v : sub.graph->outputs()) s.outputs.push_back(sub.graph->value(v).info);
  }
  return info_;
}

}  // namespace onnx_mini
