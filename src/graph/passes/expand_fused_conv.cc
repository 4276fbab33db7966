// FusedConv back to standard ONNX ops (its portable form):
//   Conv(X, W, B) [-> Add(Z)] [-> activation]
// The activation node carries the `activation_<param>` attributes under their
// ONNX names, except:
// - Clip: its bounds are attributes before opset 11 and constant inputs after;
// - HardSwish below opset 14 (where it is no ONNX op: the fusion found it as
//   x * HardSigmoid(x)): HardSigmoid(alpha = 1/6, beta = 1/2) and Mul again.
#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pattern_pass.h"
#include "ops/fused_gemm.h"

namespace onnx_mini {
namespace {

constexpr int kClipInputsSince = 11;
constexpr int kHardSwishSince = 14;

Tensor float_scalar(float v) {
  Tensor t = Tensor::allocate(DataType::kFloat, {});
  t.data<float>()[0] = v;
  return t;
}

Attribute float_attribute(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}

Result<Node> standard_node(const Graph& g, const std::string& op_type, const std::string& name) {
  Node n = make_node(g, op_type, kOnnxDomain, name);
  if (!n.def) return unsupported(op_type + " is not defined at ai.onnx opset " + std::to_string(g.opset("")));
  return n;
}

Status emit_hard_swish(Graph& g, const Node& fused, ValueId in, ValueId out, std::vector<Node>& nodes) {
  OM_ASSIGN_OR_RETURN(Node hs, standard_node(g, "HardSigmoid", fused.name + "/HardSigmoid"));
  hs.attrs.set("alpha", float_attribute(1.0f / 6.0f));
  hs.attrs.set("beta", float_attribute(0.5f));
  const ValueId gate = add_intermediate(g, g.value(out).name + "_gate");
  hs.inputs = {in};
  hs.outputs = {gate};
  OM_ASSIGN_OR_RETURN(Node mul, standard_node(g, "Mul", fused.name + "/Mul"));
  mul.inputs = {in, gate};
  mul.outputs = {out};
  nodes.push_back(std::move(hs));
  nodes.push_back(std::move(mul));
  return Status::ok();
}

Status emit_activation(Graph& g, const Node& fused, const std::string& act, ValueId in, ValueId out,
                       std::vector<Node>& nodes) {
  if (act == "HardSwish" && g.opset("") < kHardSwishSince) return emit_hard_swish(g, fused, in, out, nodes);
  OM_ASSIGN_OR_RETURN(Node n, standard_node(g, act, fused.name + "/" + act));
  const std::string prefix = kFusedActivationPrefix;
  n.inputs = {in};
  for (const auto& [name, a] : fused.attrs.all()) {
    if (name.rfind(prefix, 0) != 0 || name == "activation") continue;
    const std::string param = name.substr(prefix.size());
    if (act == "Clip" && n.def->since_version >= kClipInputsSince) {
      const size_t slot = param == "min" ? 1 : 2;
      if (n.inputs.size() <= slot) n.inputs.resize(slot + 1, kNoId);
      n.inputs[slot] = add_constant(g, fused.name + "_clip_" + param, float_scalar(a.f));
    } else {
      n.attrs.set(param, a);
    }
  }
  n.outputs = {out};
  nodes.push_back(std::move(n));
  return Status::ok();
}

}  // namespace

Result<std::string> expand_fused_conv(Graph& g, NodeId id) {
  const Node fused = g.node(id);  // a copy: adding values and nodes below may move the original
  OM_ASSIGN_OR_RETURN(std::string act, fused.attrs.get_string("activation", ""));
  const ValueId y = fused.outputs[0];
  const ValueId z = fused.inputs.size() > 3 ? fused.inputs[3] : kNoId;
  std::vector<Node> nodes;
  const ValueId conv_out = act.empty() && z == kNoId ? y : add_intermediate(g, g.value(y).name + "_conv");
  OM_ASSIGN_OR_RETURN(Node conv, standard_node(g, "Conv", fused.name));
  for (const char* name : {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}) {
    if (const Attribute* a = fused.attrs.find(name)) conv.attrs.set(name, *a);
  }
  conv.inputs = {fused.inputs[0], fused.inputs[1]};
  if (fused.inputs.size() > 2 && fused.inputs[2] != kNoId) conv.inputs.push_back(fused.inputs[2]);
  conv.outputs = {conv_out};
  nodes.push_back(std::move(conv));
  ValueId sum = conv_out;
  if (z != kNoId) {
    sum = act.empty() ? y : add_intermediate(g, g.value(y).name + "_sum");
    OM_ASSIGN_OR_RETURN(Node add, standard_node(g, "Add", fused.name + "/Add"));
    add.inputs = {conv_out, z};
    add.outputs = {sum};
    nodes.push_back(std::move(add));
  }
  if (!act.empty()) OM_RETURN_IF_ERROR(emit_activation(g, fused, act, sum, y, nodes));
  std::string line = "expanded FusedConv " + quoted_name(g, fused) + " into";
  for (const Node& n : nodes) line += " " + n.op_type;
  replace_nodes(g, {id}, std::move(nodes));
  return line;
}

}  // namespace onnx_mini
