// FuseConvActivation: Conv (or a FusedConv without activation, e.g. after
// FuseConvAdd) followed by an activation becomes one FusedConv whose epilogue
// applies it to each output tile while it is in registers or L1. Activations:
// those of ops/conv_epilogue.h (Relu, LeakyRelu, Sigmoid, HardSigmoid,
// HardSwish, ... as FusedGemm's epilogue), Clip with constant bounds (ReLU6),
// and the pattern opset-13 exports of nn.Hardswish produce,
//   y -> HardSigmoid(alpha = 1/6, beta = 1/2) -> h;  Mul(y, h)
// which is HardSwish. The fused node is named after the Conv and writes the
// activation's (or the Mul's) output.
#include <algorithm>

#include "graph/passes/conv_patterns.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"
#include "ops/conv_epilogue.h"

namespace onnx_mini {
namespace {

// Clip's bounds became inputs in version 11.
constexpr int kClipInputsSince = 11;

Attribute float_attribute(float v) {
  Attribute a;
  a.kind = Attribute::Kind::kFloat;
  a.f = v;
  return a;
}

struct FuseConvActivation {
  static constexpr const char* kName = "FuseConvActivation";
  struct Match {
    std::vector<NodeId> nodes;  // conv, then the activation's nodes in data-flow order
    std::string activation;
    std::vector<std::pair<std::string, Attribute>> params;
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& conv = g.node(id);
    if (!is_conv_without_activation(g, conv) || !make_node(g, "FusedConv", kOnnxMiniDomain, "").def) {
      return std::nullopt;
    }
    const ValueId y = conv.outputs[0];
    if (is_private_intermediate(g, y)) {
      const NodeId act = g.sole_consumer(y);
      if (auto m = single_activation(g, g.node(act))) {
        m->nodes.insert(m->nodes.begin(), {id, act});
        return m;
      }
      return std::nullopt;
    }
    return hard_swish_pattern(g, id);
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& conv = g.node(m.nodes.front());
    Fusion f = start_fusion(g, m.nodes, "FusedConv", kOnnxMiniDomain, conv.name);
    f.node.attrs = conv.attrs;
    Attribute name;
    name.kind = Attribute::Kind::kString;
    name.s = m.activation;
    f.node.attrs.set("activation", name);
    for (const auto& [param, a] : m.params) f.node.attrs.set(kFusedActivationPrefix + param, a);
    f.node.inputs = conv.inputs;
    std::string what;
    for (size_t i = 1; i < m.nodes.size(); ++i) {
      const Node& n = g.node(m.nodes[i]);
      what += (i > 1 ? " + " : "") + n.op_type + " " + quoted_name(g, n);
    }
    std::string line = "fused " + what + " into " + conv.op_type + " " + quoted_name(g, conv) +
                       (m.nodes.size() > 2 ? " (as " + m.activation + ")" : "");
    finalize_fusion(g, std::move(f));
    return line;
  }

 private:
  // The activation node `act` as the epilogue's activation and parameters.
  static std::optional<Match> single_activation(const Graph& g, const Node& act) {
    if (act.removed || act.domain != kOnnxDomain || !act.def || act.outputs.size() != 1 || act.inputs.empty() ||
        !is_float(g, act.outputs[0])) {
      return std::nullopt;
    }
    if (act.op_type == "Clip") return clip(g, act);
    const FusedActivationInfo* info = find_conv_activation(act.op_type);
    if (!info || act.def->since_version < info->min_since_version || act.inputs.size() != 1) return std::nullopt;
    Match m{{}, act.op_type, {}};
    for (const auto& [name, a] : act.attrs.all()) {
      if (std::find(info->params.begin(), info->params.end(), name) == info->params.end()) return std::nullopt;
      m.params.emplace_back(name, a);
    }
    return m;
  }

  // Clip with constant bounds: attributes before version 11, constant scalar
  // inputs (or absent ones) after.
  static std::optional<Match> clip(const Graph& g, const Node& act) {
    Match m{{}, "Clip", {}};
    if (act.def->since_version < kClipInputsSince) {
      if (!only_attributes(act, {"min", "max"})) return std::nullopt;
      for (const auto& [name, a] : act.attrs.all()) m.params.emplace_back(name, a);
      return m;
    }
    if (!act.attrs.all().empty()) return std::nullopt;
    const char* names[] = {"min", "max"};
    for (size_t i = 1; i < act.inputs.size() && i < 3; ++i) {
      if (act.inputs[i] == kNoId) continue;
      float v;
      if (!constant_scalar(g, act.inputs[i], &v)) return std::nullopt;
      m.params.emplace_back(names[i - 1], float_attribute(v));
    }
    return m;
  }

  // y read by exactly HardSigmoid(1/6, 1/2) and by Mul(y, HardSigmoid's output).
  static std::optional<Match> hard_swish_pattern(const Graph& g, NodeId conv) {
    const ValueId y = g.node(conv).outputs[0];
    const Value& v = g.value(y);
    if (v.consumers.size() != 2 || v.is_graph_output || v.consumers[0] == v.consumers[1]) return std::nullopt;
    for (int first = 0; first < 2; ++first) {
      const NodeId hs_id = v.consumers[static_cast<size_t>(first)], mul_id = v.consumers[static_cast<size_t>(1 - first)];
      const Node& hs = g.node(hs_id);
      const Node& mul = g.node(mul_id);
      if (!is_op(hs, "HardSigmoid", kOnnxDomain, 6) || !is_op(mul, "Mul", kOnnxDomain, 7)) continue;
      if (hs.outputs.size() != 1 || mul.inputs.size() != 2 || !is_private_intermediate(g, hs.outputs[0])) continue;
      const bool wired = (mul.inputs[0] == y && mul.inputs[1] == hs.outputs[0]) ||
                         (mul.inputs[1] == y && mul.inputs[0] == hs.outputs[0]);
      auto alpha = hs.attrs.get_float("alpha", 0.2f);
      auto beta = hs.attrs.get_float("beta", 0.5f);
      if (!wired || !alpha.is_ok() || !beta.is_ok() || alpha.value() != 1.0f / 6.0f || beta.value() != 0.5f) continue;
      if (!is_float(g, mul.outputs[0])) continue;
      return Match{{conv, hs_id, mul_id}, "HardSwish", {}};
    }
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_conv_activation() { return std::make_unique<PatternPass<FuseConvActivation>>(); }

}  // namespace onnx_mini
