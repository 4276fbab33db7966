// FuseSoftmaxCrossEntropy: LogSoftmax -> NegativeLogLikelihoodLoss and
// Softmax -> Log -> NegativeLogLikelihoodLoss become one ONNX
// SoftmaxCrossEntropyLoss, whose kernel is max-shifted (log-sum-exp per row, no
// probabilities materialised). This is also a numerical fix: on logits of
// magnitude 1e3..1e4, Softmax underflows to exact 0 for all but the top class,
// Log gives -inf and the loss is inf/NaN, while the fused loss is exact.
//
// torch 1.13 already exports nn.CrossEntropyLoss and log_softmax + nll_loss as a
// single SoftmaxCrossEntropyLoss (models/README.md), so these patterns come from
// hand-built graphs and other exporters.
//
// Conditions: the softmax runs over the class axis 1 (from opset 13 along one
// axis; before 13 the input is coerced to 2-D at `axis`, which equals a class-axis
// softmax only for a 2-D input with axis 1); every intermediate has one consumer
// and is not a graph output; float logits; NLL's reduction, ignore_index and the
// optional weight input carry over unchanged (same meaning in both ops).
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

struct FuseSoftmaxCrossEntropy {
  static constexpr const char* kName = "FuseSoftmaxCrossEntropy";
  struct Match {
    NodeId nll;
    NodeId log = kNoId;  // Softmax -> Log form only
    NodeId softmax;      // the Softmax or LogSoftmax node
  };

  // The (Log)Softmax normalises along the class axis 1 only.
  static bool softmax_over_class_axis(const Graph& g, const Node& s) {
    if (!only_attributes(s, {"axis"}) || s.inputs.size() != 1) return false;
    const int64_t rank = known_rank(g, s.inputs[0]);
    if (rank < 2) return false;
    const bool coerce_2d = s.def->since_version < 13;
    auto axis = s.attrs.get_int("axis", coerce_2d ? 1 : -1);
    if (!axis.is_ok()) return false;
    auto normalized = normalize_axis(axis.value(), rank);
    if (!normalized.is_ok() || normalized.value() != 1) return false;
    return !coerce_2d || rank == 2;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& nll = g.node(id);
    if (!is_op(nll, "NegativeLogLikelihoodLoss", kOnnxDomain, 12)) return std::nullopt;
    if (!only_attributes(nll, {"reduction", "ignore_index"}) || nll.inputs.size() < 2) return std::nullopt;
    const ValueId log_prob = nll.inputs[0];
    if (!is_private_intermediate(g, log_prob) || g.value(log_prob).producer == kNoId) return std::nullopt;
    Match m{id, kNoId, g.value(log_prob).producer};
    const Node* p = &g.node(m.softmax);
    if (is_op(*p, "Log", kOnnxDomain, 6)) {
      const ValueId probs = p->inputs[0];
      if (!is_private_intermediate(g, probs) || g.value(probs).producer == kNoId) return std::nullopt;
      m.log = m.softmax;
      m.softmax = g.value(probs).producer;
      p = &g.node(m.softmax);
      if (!is_op(*p, "Softmax", kOnnxDomain, 1)) return std::nullopt;
    } else if (!is_op(*p, "LogSoftmax", kOnnxDomain, 1)) {
      return std::nullopt;
    }
    if (!is_float(g, p->inputs[0]) || !softmax_over_class_axis(g, *p)) return std::nullopt;
    if (!make_node(g, "SoftmaxCrossEntropyLoss", kOnnxDomain, "").def) return std::nullopt;
    return m;
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& nll = g.node(m.nll);
    const Node& s = g.node(m.softmax);
    std::vector<NodeId> matched = {m.softmax, m.nll};
    if (m.log != kNoId) matched.insert(matched.begin() + 1, m.log);
    Fusion f = start_fusion(g, std::move(matched), "SoftmaxCrossEntropyLoss", kOnnxDomain, nll.name);
    f.node.attrs = nll.attrs;  // reduction, ignore_index: same names and meaning
    f.node.inputs = {s.inputs[0], nll.inputs[1]};
    if (nll.inputs.size() > 2 && nll.inputs[2] != kNoId) f.node.inputs.push_back(nll.inputs[2]);
    std::string line = "fused " + s.op_type + " " + quoted_name(g, s);
    if (m.log != kNoId) line += ", Log " + quoted_name(g, g.node(m.log));
    line += " and NegativeLogLikelihoodLoss " + quoted_name(g, nll) + " into SoftmaxCrossEntropyLoss " +
            quoted_name(g, f.node);
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_softmax_cross_entropy() {
  return std::make_unique<PatternPass<FuseSoftmaxCrossEntropy>>();
}

}  // namespace onnx_mini
