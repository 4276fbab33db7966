// com.onnx_mini.Gelu (emitted below opset 20, where ai.onnx has no Gelu) back
// to the standard ops PyTorch exports for it:
//   approximate "none":  x * (Erf(x / sqrt 2) + 1) * 0.5
//   approximate "tanh":  x * 0.5 * (Tanh(sqrt(2/pi) * (x + 0.044715 x^3)) + 1)
#include <string>

#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"

namespace onnx_mini {

Result<std::string> expand_gelu(Graph& g, NodeId id) {
  const Node gelu = g.node(id);  // a copy: adding values below may move the original
  OM_ASSIGN_OR_RETURN(std::string mode, gelu.attrs.get_string("approximate", "none"));
  const ValueId x = gelu.inputs[0], y = gelu.outputs[0];
  ExpansionBuilder c{g, gelu, {}};
  if (mode == "tanh") {
    OM_ASSIGN_OR_RETURN(ValueId x2, c.op("Mul", {x, x}));
    OM_ASSIGN_OR_RETURN(ValueId x3, c.op("Mul", {x2, x}));
    OM_ASSIGN_OR_RETURN(ValueId cubic, c.op("Mul", {x3, c.float_constant("cubic", 0.044715f)}));
    OM_ASSIGN_OR_RETURN(ValueId inner, c.op("Add", {x, cubic}));
    OM_ASSIGN_OR_RETURN(ValueId u, c.op("Mul", {inner, c.float_constant("sqrt_2_over_pi", 0.7978845608028654f)}));
    OM_ASSIGN_OR_RETURN(ValueId t, c.op("Tanh", {u}));
    OM_ASSIGN_OR_RETURN(ValueId one_plus, c.op("Add", {t, c.float_constant("one", 1.0f)}));
    OM_ASSIGN_OR_RETURN(ValueId half_x, c.op("Mul", {x, c.float_constant("half", 0.5f)}));
    OM_RETURN_IF_ERROR(c.op("Mul", {half_x, one_plus}, y).status());
  } else if (mode == "none") {
    OM_ASSIGN_OR_RETURN(ValueId z, c.op("Div", {x, c.float_constant("sqrt2", 1.4142135623730951f)}));
    OM_ASSIGN_OR_RETURN(ValueId e, c.op("Erf", {z}));
    OM_ASSIGN_OR_RETURN(ValueId one_plus, c.op("Add", {e, c.float_constant("one", 1.0f)}));
    OM_ASSIGN_OR_RETURN(ValueId scaled, c.op("Mul", {x, one_plus}));
    OM_RETURN_IF_ERROR(c.op("Mul", {scaled, c.float_constant("half", 0.5f)}, y).status());
  } else {
    return invalid_model("Gelu: approximate must be 'none' or 'tanh', got '" + mode + "'");
  }
  std::string line = c.explain();
  replace_nodes(g, {id}, std::move(c.nodes));
  return line;
}

}  // namespace onnx_mini
