// FuseLayerNorm: PyTorch's export of layer_norm below opset 17,
//   mean = ReduceMean(X);  d = Sub(X, mean);  var = ReduceMean(Pow(d, 2))
//   Y = Add(Mul(Div(d, Sqrt(Add(var, epsilon))), Scale), B)
// (both ReduceMeans over the same trailing axes, keepdims), becomes one
// LayerNormalization (ai.onnx from opset 17, com.onnx_mini before; expanded
// back by expand_layer_norm.cc): one pass over each row in L1 instead of nine
// kernels and four full-size intermediates.
//
// Conditions: the axes are the trailing dims of an X of known rank; Pow's
// exponent is the constant 2 and epsilon a float scalar constant; mean, the
// variance chain and the normalised value each have one consumer (d exactly
// two: Pow and Div) and none is a graph output; Scale and B have known shapes
// that broadcast onto the normalised dims alone (so the Mul and Add keep X's
// shape, and they are the same across rows); float data.
#include <algorithm>

#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

constexpr int kReduceAxesInputSince = 18;

struct FuseLayerNorm {
  static constexpr const char* kName = "FuseLayerNorm";
  struct Match {
    std::vector<NodeId> nodes;  // data-flow order, the final Add last
    ValueId x, scale, bias;
    int64_t axis;
    float epsilon;
  };

  // The producer of v when v is a private intermediate and the producer is
  // `op` (ai.onnx, any version from `since`); else null.
  static const Node* producer(const Graph& g, ValueId v, const char* op, int since, NodeId* id) {
    if (!is_private_intermediate(g, v) || g.value(v).producer == kNoId) return nullptr;
    *id = g.value(v).producer;
    const Node& n = g.node(*id);
    return is_op(n, op, kOnnxDomain, since) ? &n : nullptr;
  }

  static std::optional<float> scalar(const Graph& g, ValueId v) {
    const Tensor* t = v == kNoId ? nullptr : g.constant_value(v);
    if (!t || t->dtype() != DataType::kFloat || t->num_elements() != 1) return std::nullopt;
    return t->data<float>()[0];
  }

  // The first reduced axis when `n` (a ReduceMean with keepdims) reduces the
  // trailing dims [axis, rank) of its rank-`rank` input; else -1.
  static int64_t trailing_axis(const Graph& g, const Node& n, int64_t rank) {
    const Result<int64_t> keepdims = n.attrs.get_int("keepdims", 1);
    if (!keepdims.is_ok() || keepdims.value() != 1) return -1;
    std::vector<int64_t> axes;
    if (n.def->since_version >= kReduceAxesInputSince) {
      const Tensor* t = n.inputs.size() > 1 && n.inputs[1] != kNoId ? g.constant_value(n.inputs[1]) : nullptr;
      if (!t || t->dtype() != DataType::kInt64 || !only_attributes(n, {"keepdims"})) return -1;
      axes.assign(t->data<int64_t>(), t->data<int64_t>() + t->num_elements());
    } else {
      const Attribute* a = n.attrs.find("axes");
      if (!a || a->kind != Attribute::Kind::kInts || !only_attributes(n, {"axes", "keepdims"})) return -1;
      axes = a->ints;
    }
    for (int64_t& a : axes) a = a < 0 ? a + rank : a;
    std::sort(axes.begin(), axes.end());
    if (axes.empty() || axes.back() != rank - 1) return -1;
    for (size_t i = 0; i < axes.size(); ++i) {
      if (axes[i] != rank - static_cast<int64_t>(axes.size()) + static_cast<int64_t>(i)) return -1;
    }
    return axes.front();
  }

  // The other input of binary node n than `v`, or kNoId.
  static ValueId other_input(const Node& n, ValueId v) {
    if (n.inputs.size() != 2) return kNoId;
    return n.inputs[0] == v ? n.inputs[1] : n.inputs[1] == v ? n.inputs[0] : kNoId;
  }

  // Scale or B of known shape that broadcasts onto X's normalised dims
  // without growing X: each of its dims (right-aligned, within the dims from
  // `axis` on) is 1 or X's, which must be known there.
  static bool broadcasts_onto_normalized(const Graph& g, ValueId v, ValueId x, int64_t axis) {
    const TensorInfo &iv = g.value(v).info, &ix = g.value(x).info;
    if (!iv.fully_known() || !ix.has_shape) return false;
    const int64_t rank = static_cast<int64_t>(ix.dims.size()), vrank = static_cast<int64_t>(iv.dims.size());
    if (vrank > rank - axis) return false;
    for (int64_t i = 1; i <= vrank; ++i) {
      const int64_t dv = iv.dims[static_cast<size_t>(vrank - i)].value;
      const Dim& dx = ix.dims[static_cast<size_t>(rank - i)];
      if (dv != 1 && !(dx.known() && dx.value == dv)) return false;
    }
    return true;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& add = g.node(id);
    if (!is_op(add, "Add", kOnnxDomain, 7) || add.inputs.size() != 2) return std::nullopt;
    Match m;
    NodeId mul_id = kNoId, div_id = kNoId, sqrt_id = kNoId, eps_id = kNoId, var_id = kNoId, pow_id = kNoId,
           sub_id = kNoId, mean_id = kNoId;
    const Node* mul = nullptr;
    for (int side = 0; side < 2 && !mul; ++side) {
      mul = producer(g, add.inputs[side], "Mul", 7, &mul_id);
      m.bias = add.inputs[1 - side];
    }
    if (!mul) return std::nullopt;
    const Node* div = nullptr;
    for (int side = 0; side < 2 && !div && mul->inputs.size() == 2; ++side) {
      div = producer(g, mul->inputs[side], "Div", 7, &div_id);
      m.scale = mul->inputs[1 - side];
    }
    if (!div || div->inputs.size() != 2) return std::nullopt;
    const ValueId d = div->inputs[0];
    const Node* sqrt = producer(g, div->inputs[1], "Sqrt", 6, &sqrt_id);
    const Node* eps_add = sqrt ? producer(g, sqrt->inputs[0], "Add", 7, &eps_id) : nullptr;
    if (!eps_add || eps_add->inputs.size() != 2) return std::nullopt;
    const Node* var = nullptr;
    for (int side = 0; side < 2 && !var; ++side) {
      var = producer(g, eps_add->inputs[side], "ReduceMean", 1, &var_id);
      if (var) m.epsilon = scalar(g, eps_add->inputs[1 - side]).value_or(-1.0f);
    }
    if (!var || m.epsilon < 0) return std::nullopt;
    const Node* pow = producer(g, var->inputs[0], "Pow", 7, &pow_id);
    if (!pow || pow->inputs.size() != 2 || pow->inputs[0] != d || scalar(g, pow->inputs[1]) != 2.0f) return std::nullopt;
    // d feeds exactly Pow and Div.
    const Value& dv = g.value(d);
    if (dv.is_graph_output || dv.consumers.size() != 2 || dv.producer == kNoId) return std::nullopt;
    sub_id = dv.producer;
    const Node& sub = g.node(sub_id);
    if (!is_op(sub, "Sub", kOnnxDomain, 7) || sub.inputs.size() != 2) return std::nullopt;
    m.x = sub.inputs[0];
    const Node* mean = producer(g, sub.inputs[1], "ReduceMean", 1, &mean_id);
    if (!mean || mean->inputs[0] != m.x || !is_float(g, m.x)) return std::nullopt;
    const int64_t rank = known_rank(g, m.x);
    m.axis = rank > 0 ? trailing_axis(g, *mean, rank) : -1;
    if (m.axis < 0 || trailing_axis(g, *var, rank) != m.axis) return std::nullopt;
    if (!broadcasts_onto_normalized(g, m.scale, m.x, m.axis) || !broadcasts_onto_normalized(g, m.bias, m.x, m.axis)) {
      return std::nullopt;
    }
    if (other_input(*mul, div->outputs[0]) == kNoId || !layer_norm_node(g, "").def) return std::nullopt;
    m.nodes = {mean_id, sub_id, pow_id, var_id, eps_id, sqrt_id, div_id, mul_id, id};
    return m;
  }

  // ai.onnx LayerNormalization where the graph's opset has it, else com.onnx_mini's.
  static Node layer_norm_node(const Graph& g, const std::string& name) {
    Node n = make_node(g, "LayerNormalization", kOnnxDomain, name);
    return n.def ? n : make_node(g, "LayerNormalization", kOnnxMiniDomain, name);
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& last = g.node(m.nodes.back());
    const Node proto = layer_norm_node(g, last.name);
    std::string line = "fused ReduceMean " + quoted_name(g, g.node(m.nodes.front())) + " ... Add " +
                       quoted_name(g, last) + " (9 nodes) into " + proto.domain + (proto.domain.empty() ? "" : ".") +
                       "LayerNormalization";
    Fusion f = start_fusion(g, m.nodes, "LayerNormalization", proto.domain, last.name);
    Attribute axis, eps;
    axis.kind = Attribute::Kind::kInt;
    axis.i = m.axis;
    eps.kind = Attribute::Kind::kFloat;
    eps.f = m.epsilon;
    f.node.attrs.set("axis", axis);
    f.node.attrs.set("epsilon", eps);
    f.node.inputs = {m.x, m.scale, m.bias};
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_layer_norm() { return std::make_unique<PatternPass<FuseLayerNorm>>(); }

}  // namespace onnx_mini
