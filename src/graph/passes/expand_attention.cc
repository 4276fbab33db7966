// com.onnx_mini.FusedAttention back to the chain it was fused from:
//   S = MatMul(Q, Kt);  [S = S * scale or S / scale];
//   [S = S + Mask, or Where(Mask, S, fill) / Where(Mask, fill, S) with mask_keeps]
//   Y = MatMul(Softmax(S, axis = rank - 1), V)
// The axis is written as a positive number, which every Softmax version reads
// as the last one (before opset 13 it coerces to 2-D at the axis, the same
// thing for the last axis; negative axes start at opset 11).
#include <algorithm>
#include <string>

#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {

Result<std::string> expand_attention(Graph& g, NodeId id) {
  const Node att = g.node(id);  // a copy: adding values below may move the original
  // The scores' rank: Q's, Kt's or the Mask's, whichever is highest (V's batch
  // dims may make Y's rank higher still).
  const bool masked = att.inputs.size() > 3 && att.inputs[3] != kNoId;
  int64_t rank = 2;
  for (ValueId v : {att.inputs[0], att.inputs[1], masked ? att.inputs[3] : att.inputs[0]}) {
    const int64_t r = known_rank(g, v);
    if (r < 0) return unsupported("FusedAttention on inputs of unknown rank has no Softmax axis to write");
    rank = std::max(rank, r);
  }
  ExpansionBuilder c{g, att, {}};
  OM_ASSIGN_OR_RETURN(ValueId s, c.op("MatMul", {att.inputs[0], att.inputs[1]}));
  if (att.attrs.find("scale")) {
    OM_ASSIGN_OR_RETURN(float scale, att.attrs.get_float("scale", 1.0f));
    OM_ASSIGN_OR_RETURN(int64_t divides, att.attrs.get_int("scale_divides", 0));
    OM_ASSIGN_OR_RETURN(s, c.op(divides ? "Div" : "Mul", {s, c.float_constant("scale", scale)}));
  }
  if (masked && att.attrs.find("mask_keeps")) {
    OM_ASSIGN_OR_RETURN(float fill, att.attrs.get_float("mask_fill", 0.0f));
    OM_ASSIGN_OR_RETURN(int64_t keeps, att.attrs.get_int("mask_keeps", 0));
    const ValueId f = c.float_constant("mask_fill", fill);
    OM_ASSIGN_OR_RETURN(s, c.op("Where", keeps ? std::vector<ValueId>{att.inputs[3], s, f}
                                               : std::vector<ValueId>{att.inputs[3], f, s}));
  } else if (masked) {
    OM_ASSIGN_OR_RETURN(s, c.op("Add", {s, att.inputs[3]}));
  }
  Attributes softmax_attrs;
  Attribute axis;
  axis.kind = Attribute::Kind::kInt;
  axis.i = rank - 1;
  softmax_attrs.set("axis", axis);
  OM_ASSIGN_OR_RETURN(ValueId p, c.op("Softmax", {s}, kNoId, std::move(softmax_attrs)));
  OM_RETURN_IF_ERROR(c.op("MatMul", {p, att.inputs[2]}, att.outputs[0]).status());
  std::string line = c.explain();
  replace_nodes(g, {id}, std::move(c.nodes));
  return line;
}

}  // namespace onnx_mini
