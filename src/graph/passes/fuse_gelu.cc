// FuseGelu: PyTorch's export of GELU at opsets below 20,
//   exact:  Div(x, sqrt 2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5)
//   tanh:   Mul(x, x) -> Mul(x) -> Mul(0.044715) -> Add(x) -> Mul(sqrt(2/pi))
//           -> Tanh -> Add(1) -> Mul(x) -> Mul(0.5)
// (or with the 0.5 applied to x first: Mul(Mul(x, 0.5), Erf(...) + 1)), becomes
// one Gelu node (approximate "tanh" for the second): ai.onnx Gelu from opset 20, com.onnx_mini.Gelu before (same
// semantics; expanded back by expand_gelu.cc). The kernel evaluates
// x/2 erfc(-x/sqrt 2) in double and rounds once, where the exported chain
// loses all relative accuracy for x below about -3 (1 + erf cancels); and
// FuseGemmActivation then folds the Gelu into the FusedGemm before it.
//
// Conditions: the constants are float scalars (any rank, one element) of the
// values the export writes (sqrt 2 as the float nearest it, or its reciprocal
// through a Mul); each intermediate has one consumer and is not a graph output;
// both uses of x are the same value; float data.
#include <cmath>

#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

// The float scalar constant v holds, if any.
std::optional<float> scalar_constant(const Graph& g, ValueId v) {
  const Tensor* t = v == kNoId ? nullptr : g.constant_value(v);
  if (!t || t->dtype() != DataType::kFloat || t->num_elements() != 1) return std::nullopt;
  return t->data<float>()[0];
}

bool constant_is(const Graph& g, ValueId v, float want) {
  const std::optional<float> c = scalar_constant(g, v);
  // The exporter writes the float nearest the constant; allow a few float ULPs.
  return c && std::fabs(*c - want) <= 4e-7f * std::fabs(want);
}

struct FuseGelu {
  static constexpr const char* kName = "FuseGelu";
  struct Match {
    std::vector<NodeId> nodes;  // in data-flow order
    ValueId x;
    bool tanh = false;
  };

  // A live binary node `op` with a constant `c` on one side: the other input.
  static ValueId other_than_constant(const Graph& g, const Node& n, const char* op, float c) {
    if (!is_op(n, op, kOnnxDomain, 7) || n.inputs.size() != 2 || !n.attrs.all().empty()) return kNoId;
    if (constant_is(g, n.inputs[1], c)) return n.inputs[0];
    if (constant_is(g, n.inputs[0], c)) return n.inputs[1];
    return kNoId;
  }

  // The producer of a private intermediate v, or null.
  static const Node* private_producer(const Graph& g, ValueId v, NodeId* id) {
    if (!is_private_intermediate(g, v) || g.value(v).producer == kNoId) return nullptr;
    *id = g.value(v).producer;
    return &g.node(*id);
  }

  // v = Erf(x / sqrt 2) + 1: appends Div, Erf, Add to `nodes`; returns x.
  static ValueId erf_term(const Graph& g, ValueId v, std::vector<NodeId>& nodes) {
    NodeId add_id, erf_id, div_id;
    const Node* add = private_producer(g, v, &add_id);
    if (!add) return kNoId;
    const ValueId e = other_than_constant(g, *add, "Add", 1.0f);
    const Node* erf = e == kNoId ? nullptr : private_producer(g, e, &erf_id);
    if (!erf || !is_op(*erf, "Erf", kOnnxDomain, 9) || erf->inputs.size() != 1) return kNoId;
    const Node* div = private_producer(g, erf->inputs[0], &div_id);
    if (!div) return kNoId;
    ValueId x = kNoId;
    if (is_op(*div, "Div", kOnnxDomain, 7) && div->inputs.size() == 2 && constant_is(g, div->inputs[1], 1.41421356f)) {
      x = div->inputs[0];
    } else {
      x = other_than_constant(g, *div, "Mul", 0.70710678f);
    }
    if (x == kNoId) return kNoId;
    nodes.insert(nodes.end(), {div_id, erf_id, add_id});
    return x;
  }

  // x3 = x * (x * x) (either order of either Mul): appends both Muls; returns x.
  static ValueId cube(const Graph& g, ValueId v, std::vector<NodeId>& nodes) {
    NodeId x3_id, x2_id;
    const Node* x3 = private_producer(g, v, &x3_id);
    if (!x3 || !is_op(*x3, "Mul", kOnnxDomain, 7) || x3->inputs.size() != 2) return kNoId;
    for (int side = 0; side < 2; ++side) {
      const ValueId x = x3->inputs[side];
      const Node* x2 = private_producer(g, x3->inputs[1 - side], &x2_id);
      if (x2 && is_op(*x2, "Mul", kOnnxDomain, 7) && x2->inputs.size() == 2 && x2->inputs[0] == x &&
          x2->inputs[1] == x) {
        nodes.insert(nodes.end(), {x2_id, x3_id});
        return x;
      }
    }
    return kNoId;
  }

  // v = Tanh(sqrt(2/pi) * (x + 0.044715 x^3)) + 1: appends its seven nodes; returns x.
  static ValueId tanh_term(const Graph& g, ValueId v, std::vector<NodeId>& nodes) {
    NodeId add_id, tanh_id, scale_id, inner_id, cubic_id;
    const Node* add = private_producer(g, v, &add_id);
    const ValueId t = add ? other_than_constant(g, *add, "Add", 1.0f) : kNoId;
    const Node* tanh = t == kNoId ? nullptr : private_producer(g, t, &tanh_id);
    if (!tanh || !is_op(*tanh, "Tanh", kOnnxDomain, 6) || tanh->inputs.size() != 1) return kNoId;
    const Node* scale = private_producer(g, tanh->inputs[0], &scale_id);
    const ValueId in = scale ? other_than_constant(g, *scale, "Mul", 0.79788456f) : kNoId;
    const Node* inner = in == kNoId ? nullptr : private_producer(g, in, &inner_id);
    if (!inner || !is_op(*inner, "Add", kOnnxDomain, 7) || inner->inputs.size() != 2) return kNoId;
    for (int side = 0; side < 2; ++side) {
      const Node* cubic = private_producer(g, inner->inputs[1 - side], &cubic_id);
      const ValueId x3 = cubic ? other_than_constant(g, *cubic, "Mul", 0.044715f) : kNoId;
      std::vector<NodeId> found;
      if (x3 == kNoId || cube(g, x3, found) != inner->inputs[side]) continue;
      found.insert(found.end(), {cubic_id, inner_id, scale_id, tanh_id, add_id});
      nodes.insert(nodes.end(), found.begin(), found.end());
      return inner->inputs[side];
    }
    return kNoId;
  }

  // The Erf or the Tanh term; sets m.x, m.tanh and appends the term's nodes.
  static bool gelu_term(const Graph& g, ValueId v, Match& m) {
    m.x = erf_term(g, v, m.nodes);
    if (m.x != kNoId) return true;
    m.x = tanh_term(g, v, m.nodes);
    m.tanh = m.x != kNoId;
    return m.tanh;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& last = g.node(id);
    if (last.outputs.size() != 1 || !is_float(g, last.outputs[0])) return std::nullopt;
    const ValueId half_of = other_than_constant(g, last, "Mul", 0.5f);
    if (half_of != kNoId) {  // Mul(Mul(x, erf_term), 0.5)
      NodeId inner_id;
      const Node* inner = private_producer(g, half_of, &inner_id);
      if (!inner || !is_op(*inner, "Mul", kOnnxDomain, 7) || inner->inputs.size() != 2) return std::nullopt;
      for (int side = 0; side < 2; ++side) {
        Match m;
        if (gelu_term(g, inner->inputs[1 - side], m) && m.x == inner->inputs[side]) {
          return finish(g, std::move(m), {inner_id, id});
        }
      }
      return std::nullopt;
    }
    // Mul(Mul(x, 0.5), erf_term)
    if (!is_op(last, "Mul", kOnnxDomain, 7) || last.inputs.size() != 2) return std::nullopt;
    for (int side = 0; side < 2; ++side) {
      NodeId half_id;
      const Node* half = private_producer(g, last.inputs[side], &half_id);
      if (!half) continue;
      const ValueId x = other_than_constant(g, *half, "Mul", 0.5f);
      Match m;
      if (x != kNoId && gelu_term(g, last.inputs[1 - side], m) && m.x == x) {
        return finish(g, std::move(m), {half_id, id});
      }
    }
    return std::nullopt;
  }

  static std::optional<Match> finish(const Graph& g, Match m, std::initializer_list<NodeId> tail) {
    m.nodes.insert(m.nodes.end(), tail);
    if (!is_float(g, m.x) || !gelu_node(g, "").def) return std::nullopt;
    return m;
  }

  // ai.onnx Gelu where the graph's opset has it, else com.onnx_mini's.
  static Node gelu_node(const Graph& g, const std::string& name) {
    Node n = make_node(g, "Gelu", kOnnxDomain, name);
    return n.def ? n : make_node(g, "Gelu", kOnnxMiniDomain, name);
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& last = g.node(m.nodes.back());
    const Node proto = gelu_node(g, last.name);
    Fusion f = start_fusion(g, m.nodes, "Gelu", proto.domain, last.name);
    f.node.inputs = {m.x};
    if (m.tanh) {
      Attribute approximate;
      approximate.kind = Attribute::Kind::kString;
      approximate.s = "tanh";
      f.node.attrs.set("approximate", approximate);
    }
    std::string ops;
    for (NodeId n : m.nodes) ops += (ops.empty() ? "" : ", ") + g.node(n).op_type;
    std::string line = "fused " + ops + " ending in " + quoted_name(g, last) + " into " + proto.domain +
                       (proto.domain.empty() ? "" : ".") + "Gelu" + (m.tanh ? " (tanh)" : "");
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_gelu() { return std::make_unique<PatternPass<FuseGelu>>(); }

}  // namespace onnx_mini
