// FuseGelu: PyTorch's export of the exact GELU at opsets below 20,
//   Div(x, sqrt 2) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5)
// (or with the 0.5 applied to x first: Mul(Mul(x, 0.5), Erf(...) + 1)), becomes
// one Gelu node: ai.onnx Gelu from opset 20, com.onnx_mini.Gelu before (same
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
    std::vector<NodeId> nodes;  // Div/Mul, Erf, Add, Mul, Mul in data-flow order
    ValueId x;
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
        m.x = erf_term(g, inner->inputs[1 - side], m.nodes);
        if (m.x != kNoId && m.x == inner->inputs[side]) return finish(g, std::move(m), {inner_id, id});
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
      m.x = erf_term(g, last.inputs[1 - side], m.nodes);
      if (x != kNoId && m.x == x) return finish(g, std::move(m), {half_id, id});
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
    std::string line = "fused Div, Erf, Add, Mul, Mul ending in " + quoted_name(g, last) + " into " + proto.domain +
                       (proto.domain.empty() ? "" : ".") + "Gelu";
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_gelu() { return std::make_unique<PatternPass<FuseGelu>>(); }

}  // namespace onnx_mini
