#include "graph/infer_subgraphs.h"

#include "core/printable.h"

namespace onnx_mini {
namespace {

TensorInfo scalar_of(DataType t) { return TensorInfo::of(t, Shape{}); }

// What the op passes to the formal inputs of subgraph `sub` of n, by position;
// a shape left unknown is one that may change from one iteration to the next.
Result<std::vector<TensorInfo>> formal_input_types(const Graph& g, const Node& n, const Graph& sub) {
  const size_t declared = sub.inputs().size();
  if (n.op_type == "Loop") {
    // M and cond are optional inputs, so the loop-carried values start at 2.
    const size_t carried = n.inputs.size() > 2 ? n.inputs.size() - 2 : 0;
    if (declared != 2 + carried) {
      return invalid_model("the body has " + std::to_string(declared) + " inputs, expected " + std::to_string(2 + carried) +
                           " (the iteration number, the condition and " + std::to_string(carried) + " loop-carried values)");
    }
    std::vector<TensorInfo> types = {scalar_of(DataType::kInt64), scalar_of(DataType::kBool)};
    for (size_t i = 0; i < carried; ++i) {
      TensorInfo t;
      const ValueId initial = n.inputs[2 + i];
      if (initial != kNoId) t.dtype = g.value(initial).info.dtype;
      types.push_back(t);
    }
    return types;
  }
  if (declared != 0) {
    return invalid_model("the graph has " + std::to_string(declared) + " inputs; " + printable(n.op_type) +
                         " passes its subgraphs none");
  }
  return std::vector<TensorInfo>{};
}

// A declared formal input keeps its declaration; an undeclared one takes the type passed.
Status type_formal_input(Value& input, const TensorInfo& passed) {
  TensorInfo& info = input.info;
  if (info.dtype != DataType::kUndefined && passed.dtype != DataType::kUndefined && info.dtype != passed.dtype) {
    return invalid_model("input " + quote(input.name) + " is declared " + dtype_name(info.dtype) + " but receives " +
                         dtype_name(passed.dtype));
  }
  if (info.dtype == DataType::kUndefined) info.dtype = passed.dtype;
  if (!info.has_shape && passed.has_shape) {
    info.has_shape = true;
    info.dims = passed.dims;
  }
  return Status::ok();
}

Status infer_subgraph(const Graph& g, const Node& n, size_t k) {
  Graph& sub = *n.subgraphs[k].graph;
  const size_t offset = implicit_input_offset(n, k);
  for (size_t j = 0; j < sub.captured().size(); ++j) {
    Value& captured = sub.value(sub.captured()[j]);
    captured.info = g.value(n.implicit_inputs[offset + j]).info;
    captured.info.constant = nullptr;
  }
  OM_ASSIGN_OR_RETURN(std::vector<TensorInfo> passed, formal_input_types(g, n, sub));
  for (size_t i = 0; i < passed.size(); ++i) OM_RETURN_IF_ERROR(type_formal_input(sub.value(sub.inputs()[i]), passed[i]));
  return infer_shapes(sub);
}

}  // namespace

Status infer_subgraphs(Graph& g, NodeId id) {
  const Node& n = g.node(id);
  for (size_t k = 0; k < n.subgraphs.size(); ++k) {
    Status s = infer_subgraph(g, n, k);
    if (!s.is_ok()) return s.with_context(n.describe() + " attribute " + quote(n.subgraphs[k].attribute) + ": ");
  }
  return Status::ok();
}

}  // namespace onnx_mini
