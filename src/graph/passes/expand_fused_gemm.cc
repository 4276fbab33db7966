// FusedGemm back to standard ONNX ops (its portable form):
//   2-D A (or transA):  Gemm(A, B, C; alpha, beta, transA, transB) -> activation
//   N-D A:              MatMul(A, op(B)) [-> Mul(alpha)] [-> Add(beta * C)] -> activation
// The activation node carries the `activation_<param>` attributes under their
// ONNX names. Below the opset where the activation is an ONNX op (Gelu before
// 20) it is emitted in com.onnx_mini and expanded in turn.
#include <cstring>

#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pattern_pass.h"
#include "ops/fused_gemm.h"

namespace onnx_mini {
namespace {

// Gemm's C is optional only from version 11.
constexpr int kGemmOptionalCSince = 11;

Tensor float_scalar(float v) {
  Tensor t = Tensor::allocate(DataType::kFloat, {});
  t.data<float>()[0] = v;
  return t;
}

// op(B) as a [K, N] value: B itself, a transposed copy of a constant B, or a
// Transpose node for a fed one.
Result<ValueId> untransposed_weight(Graph& g, const Node& fused, std::vector<Node>& nodes) {
  const ValueId b = fused.inputs[1];
  if (const Tensor* w = g.constant_value(b); w && w->dtype() == DataType::kFloat && w->rank() == 2) {
    const int64_t n = w->dim(0), k = w->dim(1);
    Tensor t = Tensor::allocate(DataType::kFloat, {k, n});
    const float* src = w->data<float>();
    float* dst = t.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < k; ++j) dst[j * n + i] = src[i * k + j];
    }
    return add_constant(g, g.value(b).name + "_transposed", std::move(t));
  }
  Node tr = make_node(g, "Transpose", kOnnxDomain, fused.name + "/transpose_B");
  if (!tr.def) return unsupported("Transpose is not defined at this opset");
  tr.attrs.set("perm", Attribute::from_ints({1, 0}));
  const ValueId out = add_intermediate(g, g.value(b).name + "_transposed");
  tr.inputs = {b};
  tr.outputs = {out};
  nodes.push_back(std::move(tr));
  return out;
}

// A node of a standard op, or an error when the graph's opset lacks it.
Result<Node> standard_node(const Graph& g, const char* op_type, const std::string& name) {
  Node n = make_node(g, op_type, kOnnxDomain, name);
  if (!n.def) {
    return unsupported(std::string(op_type) + " is not defined at ai.onnx opset " + std::to_string(g.opset("")));
  }
  return n;
}

Result<Node> binary_node(const Graph& g, const char* op_type, const std::string& name, ValueId x, ValueId y,
                         ValueId out) {
  OM_ASSIGN_OR_RETURN(Node n, standard_node(g, op_type, name));
  n.inputs = {x, y};
  n.outputs = {out};
  return n;
}

struct GemmAttrs {
  float alpha = 1, beta = 1;
  bool trans_a = false, trans_b = false;
  std::string activation;
};

Result<GemmAttrs> read_attrs(const Node& n) {
  GemmAttrs a;
  OM_ASSIGN_OR_RETURN(a.alpha, n.attrs.get_float("alpha", 1.0f));
  OM_ASSIGN_OR_RETURN(a.beta, n.attrs.get_float("beta", 1.0f));
  OM_ASSIGN_OR_RETURN(int64_t ta, n.attrs.get_int("transA", 0));
  OM_ASSIGN_OR_RETURN(int64_t tb, n.attrs.get_int("transB", 0));
  OM_ASSIGN_OR_RETURN(a.activation, n.attrs.get_string("activation", ""));
  a.trans_a = ta != 0;
  a.trans_b = tb != 0;
  return a;
}

// Gemm(A, B, C) with FusedGemm's linear attributes, writing `out`.
Status emit_gemm(Graph& g, const Node& fused, ValueId out, std::vector<Node>& nodes) {
  OM_ASSIGN_OR_RETURN(Node gemm, standard_node(g, "Gemm", fused.name));
  for (const char* name : {"alpha", "beta", "transA", "transB"}) {
    if (const Attribute* a = fused.attrs.find(name)) gemm.attrs.set(name, *a);
  }
  gemm.inputs = {fused.inputs[0], fused.inputs[1]};
  const ValueId c = fused.inputs.size() > 2 ? fused.inputs[2] : kNoId;
  if (c != kNoId) {
    gemm.inputs.push_back(c);
  } else if (gemm.def->since_version < kGemmOptionalCSince) {
    gemm.inputs.push_back(add_constant(g, fused.name + "_zero_bias", float_scalar(0.0f)));
  }
  gemm.outputs = {out};
  nodes.push_back(std::move(gemm));
  return Status::ok();
}

// MatMul(A, op(B)) [* alpha] [+ beta * C] for an A of rank > 2 (transA = 0).
Status emit_matmul(Graph& g, const Node& fused, const GemmAttrs& at, ValueId out, std::vector<Node>& nodes) {
  const ValueId c = fused.inputs.size() > 2 ? fused.inputs[2] : kNoId;
  const bool add_c = c != kNoId && at.beta != 0.0f;
  if (add_c) {
    // C broadcasts against the flattened [M, N]; against [..., N] numpy
    // broadcasting agrees only when C has no row dimension other than 1.
    const TensorInfo& ci = g.value(c).info;
    const bool rows_one = ci.has_shape && (ci.dims.size() <= 1 || (ci.dims[0].known() && ci.dims[0].value == 1));
    if (!rows_one) {
      return unsupported("FusedGemm with an N-D A and a per-row C " + ci.to_string() +
                         " has no MatMul + Add form");
    }
  }
  ValueId b = fused.inputs[1];
  if (at.trans_b) {
    OM_ASSIGN_OR_RETURN(b, untransposed_weight(g, fused, nodes));
  }
  const std::string base = g.value(out).name;
  ValueId acc = (at.alpha != 1.0f || add_c) ? add_intermediate(g, base + "_matmul") : out;
  OM_ASSIGN_OR_RETURN(Node mm, binary_node(g, "MatMul", fused.name, fused.inputs[0], b, acc));
  nodes.push_back(std::move(mm));
  if (at.alpha != 1.0f) {
    const ValueId scaled = add_c ? add_intermediate(g, base + "_scaled") : out;
    const ValueId alpha = add_constant(g, fused.name + "_alpha", float_scalar(at.alpha));
    OM_ASSIGN_OR_RETURN(Node mul, binary_node(g, "Mul", fused.name + "/alpha", acc, alpha, scaled));
    nodes.push_back(std::move(mul));
    acc = scaled;
  }
  if (add_c) {
    ValueId bias = c;
    if (at.beta != 1.0f) {
      bias = add_intermediate(g, base + "_bias");
      const ValueId beta = add_constant(g, fused.name + "_beta", float_scalar(at.beta));
      OM_ASSIGN_OR_RETURN(Node mul, binary_node(g, "Mul", fused.name + "/beta", c, beta, bias));
      nodes.push_back(std::move(mul));
    }
    OM_ASSIGN_OR_RETURN(Node add, binary_node(g, "Add", fused.name + "/bias", acc, bias, out));
    nodes.push_back(std::move(add));
  }
  return Status::ok();
}

// The epilogue's activation as its own node, in ai.onnx when the graph's opset
// defines it, else in com.onnx_mini (expanded in a later round).
Status emit_activation(Graph& g, const Node& fused, const GemmAttrs& at, ValueId in, ValueId out,
                       std::vector<Node>& nodes) {
  Node act = make_node(g, at.activation, kOnnxDomain, fused.name + "/" + at.activation);
  if (!act.def) act = make_node(g, at.activation, kOnnxMiniDomain, act.name);
  if (!act.def) {
    return unsupported("activation " + at.activation + " is neither an ONNX op at opset " +
                       std::to_string(g.opset("")) + " nor an onnx-mini op");
  }
  const std::string prefix = kFusedActivationPrefix;
  for (const auto& [name, a] : fused.attrs.all()) {
    if (name.rfind(prefix, 0) == 0) act.attrs.set(name.substr(prefix.size()), a);
  }
  act.inputs = {in};
  act.outputs = {out};
  nodes.push_back(std::move(act));
  return Status::ok();
}

}  // namespace

Result<std::string> expand_fused_gemm(Graph& g, NodeId id) {
  const Node fused = g.node(id);  // a copy: adding values and nodes below may move the original
  OM_ASSIGN_OR_RETURN(GemmAttrs at, read_attrs(fused));
  const ValueId y = fused.outputs[0];
  const ValueId linear = at.activation.empty() ? y : add_intermediate(g, g.value(y).name + "_linear");
  std::vector<Node> nodes;
  const bool two_d = at.trans_a || known_rank(g, fused.inputs[0]) == 2;
  OM_RETURN_IF_ERROR(two_d ? emit_gemm(g, fused, linear, nodes) : emit_matmul(g, fused, at, linear, nodes));
  if (!at.activation.empty()) OM_RETURN_IF_ERROR(emit_activation(g, fused, at, linear, y, nodes));
  std::string line = "expanded FusedGemm " + quoted_name(g, fused) + " into";
  for (const Node& n : nodes) line += " " + n.op_type;
  replace_nodes(g, {id}, std::move(nodes));
  return line;
}

}  // namespace onnx_mini
