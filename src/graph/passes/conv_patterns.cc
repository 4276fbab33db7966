#include "graph/passes/conv_patterns.h"

#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

bool has_activation(const Node& n) {
  const Attribute* act = n.attrs.find("activation");
  return act && !(act->kind == Attribute::Kind::kString && act->s.empty());
}

bool conv_node(const Graph& g, const Node& n) {
  const bool conv = is_op(n, "Conv", kOnnxDomain, 1) &&
                    only_attributes(n, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  const bool fused = is_op(n, "FusedConv", kOnnxMiniDomain, 1);
  return (conv || fused) && n.outputs.size() == 1 && is_float(g, n.inputs[0]) && is_float(g, n.outputs[0]);
}

}  // namespace

bool is_float_conv(const Graph& g, const Node& n) { return conv_node(g, n); }

bool is_plain_conv(const Graph& g, const Node& n) {
  if (!conv_node(g, n)) return false;
  if (n.op_type == "Conv") return true;
  const bool has_z = n.inputs.size() > 3 && n.inputs[3] != kNoId;
  return !has_activation(n) && !has_z;
}

bool is_conv_without_activation(const Graph& g, const Node& n) { return conv_node(g, n) && !has_activation(n); }

bool same_shape(const Graph& g, ValueId a, ValueId b) {
  const TensorInfo& x = g.value(a).info;
  const TensorInfo& y = g.value(b).info;
  if (!x.has_shape || !y.has_shape || x.dims.size() != y.dims.size()) return false;
  for (size_t i = 0; i < x.dims.size(); ++i) {
    const Dim &p = x.dims[i], &q = y.dims[i];
    const bool equal = p.known() ? q.known() && p.value == q.value : !q.known() && !p.param.empty() && p.param == q.param;
    if (!equal) return false;
  }
  return true;
}

bool constant_scalar(const Graph& g, ValueId v, float* value) {
  const Tensor* t = v == kNoId ? nullptr : g.constant_value(v);
  if (!t || t->dtype() != DataType::kFloat || t->num_elements() != 1) return false;
  *value = t->data<float>()[0];
  return true;
}

}  // namespace onnx_mini
