// FuseAttention: scaled dot-product attention as PyTorch exports it,
//   S = MatMul(Q, Kt);  [S = Mul(S, c) or Div(S, c)];
//   [S = Add(S, Mask) or Where(Mask, S, fill) or Where(Mask, fill, S)];
//   P = Softmax(S, last axis);  Y = MatMul(P, V)
// becomes one com.onnx_mini.FusedAttention (ops/attention.cc; expanded back by
// expand_attention.cc): the scores are scaled, masked and normalised while in
// cache, one batch matrix at a time, instead of four kernels over a
// [batch, heads, M, N] tensor.
//
// Conditions: ai.onnx MatMul, Mul/Div, Add and Softmax; Q, Kt and V of known
// rank >= 2 (no 1-D promotion); the scale a float constant with one element
// and a rank that does not grow S (a Div's divisor, either side of a Mul);
// the Mask float (any shape: the kernel broadcasts it with the scores at run
// time, as the Add does), or for Where a bool Mask with a float constant of
// one element as the fill (masked_fill's export, usually -inf);
// Softmax over the last axis of S; every intermediate has one consumer and is
// not a graph output; float data.
#include <algorithm>
#include <optional>

#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

constexpr int kSoftmaxLastAxisDefaultSince = 13;

struct FuseAttention {
  static constexpr const char* kName = "FuseAttention";
  struct Match {
    std::vector<NodeId> nodes;  // data-flow order, the second MatMul last
    ValueId q, kt, v, mask = kNoId;
    std::optional<float> scale;
    bool divides = false;
    std::optional<float> fill;  // set: the Where form
    bool keeps = false;         // Where(Mask, S, fill)
  };

  // The producer of v when v is a private intermediate and the producer is
  // `op` (ai.onnx, from `since`); else null.
  static const Node* producer(const Graph& g, ValueId v, const char* op, int since, NodeId* id) {
    if (v == kNoId || !is_private_intermediate(g, v) || g.value(v).producer == kNoId) return nullptr;
    *id = g.value(v).producer;
    const Node& n = g.node(*id);
    return is_op(n, op, kOnnxDomain, since) && n.outputs.size() == 1 ? &n : nullptr;
  }

  // A float constant of one element whose rank does not exceed `rank`.
  static std::optional<float> scalar(const Graph& g, ValueId v, int64_t rank) {
    const Tensor* t = v == kNoId ? nullptr : g.constant_value(v);
    if (!t || t->dtype() != DataType::kFloat || t->num_elements() != 1 || t->rank() > rank) return std::nullopt;
    return t->data<float>()[0];
  }

  // The Softmax normalises the last axis of its input of rank `rank`.
  static bool over_last_axis(const Node& softmax, int64_t rank) {
    if (!only_attributes(softmax, {"axis"})) return false;
    const int64_t default_axis = softmax.def->since_version >= kSoftmaxLastAxisDefaultSince ? -1 : 1;
    const Result<int64_t> axis = softmax.attrs.get_int("axis", default_axis);
    if (!axis.is_ok()) return false;
    return (axis.value() < 0 ? axis.value() + rank : axis.value()) == rank - 1;
  }

  // `v` continues the scores chain: a private intermediate made by Mul, Div or MatMul.
  static bool continues_scores(const Graph& g, ValueId v) {
    const NodeId p = is_private_intermediate(g, v) ? g.value(v).producer : kNoId;
    if (p == kNoId) return false;
    const std::string& op = g.node(p).op_type;
    return op == "Mul" || op == "Div" || op == "MatMul";
  }

  // Where(Mask, S, fill) or Where(Mask, fill, S): the bool Mask, the fill and
  // which side the scores are on; s moves to the scores.
  static bool match_where(const Graph& g, const Node& where, int64_t rank, ValueId& s, Match& m) {
    if (where.inputs.size() != 3) return false;
    const ValueId cond = where.inputs[0];
    if (cond == kNoId || g.value(cond).info.dtype != DataType::kBool) return false;
    for (size_t side = 1; side <= 2; ++side) {
      const ValueId chain = where.inputs[side];
      const std::optional<float> fill = scalar(g, where.inputs[3 - side], rank);
      if (!continues_scores(g, chain) || !fill) continue;
      m.mask = cond;
      m.fill = fill;
      m.keeps = side == 1;
      s = chain;
      return true;
    }
    return false;
  }

  // Walks back from the Softmax's input through the optional Add or Where
  // (mask) and Mul/Div (scale) to the first MatMul; fills m.nodes (reversed)
  // and m's fields.
  static bool match_scores(const Graph& g, ValueId s, int64_t rank, Match& m) {
    NodeId id;
    if (const Node* add = producer(g, s, "Add", 7, &id)) {
      for (int side = 0; side < 2; ++side) {
        const ValueId chain = add->inputs[static_cast<size_t>(side)];
        if (!continues_scores(g, chain)) continue;
        m.nodes.push_back(id);
        m.mask = add->inputs[static_cast<size_t>(1 - side)];
        s = chain;
        break;
      }
      if (m.mask == kNoId || !is_float(g, m.mask)) return false;
    } else if (const Node* where = producer(g, s, "Where", 9, &id)) {
      if (!match_where(g, *where, rank, s, m)) return false;
      m.nodes.push_back(id);
    }
    if (const Node* div = producer(g, s, "Div", 7, &id)) {
      m.scale = scalar(g, div->inputs[1], rank);
      m.divides = true;
      m.nodes.push_back(id);
      s = div->inputs[0];
    } else if (const Node* mul = producer(g, s, "Mul", 7, &id)) {
      for (int side = 0; side < 2 && !m.scale; ++side) {
        m.scale = scalar(g, mul->inputs[static_cast<size_t>(1 - side)], rank);
        if (m.scale) s = mul->inputs[static_cast<size_t>(side)];
      }
      m.nodes.push_back(id);
    }
    if (m.nodes.size() > (m.mask == kNoId ? 0u : 1u) && !m.scale) return false;
    const Node* mm = producer(g, s, "MatMul", 1, &id);
    if (!mm) return false;
    m.nodes.push_back(id);
    m.q = mm->inputs[0];
    m.kt = mm->inputs[1];
    return true;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& mm2 = g.node(id);
    if (!is_op(mm2, "MatMul", kOnnxDomain, 1) || mm2.inputs.size() != 2) return std::nullopt;
    NodeId softmax_id;
    const Node* softmax = producer(g, mm2.inputs[0], "Softmax", 1, &softmax_id);
    if (!softmax || softmax->inputs.size() != 1) return std::nullopt;
    const ValueId s = softmax->inputs[0];
    const int64_t rank = known_rank(g, s);
    if (rank < 2 || !over_last_axis(*softmax, rank)) return std::nullopt;
    Match m;
    m.v = mm2.inputs[1];
    if (!match_scores(g, s, rank, m)) return std::nullopt;
    for (ValueId v : {m.q, m.kt, m.v, s, mm2.outputs[0]}) {
      if (!is_float(g, v)) return std::nullopt;
    }
    for (ValueId v : {m.q, m.kt, m.v}) {
      if (known_rank(g, v) < 2) return std::nullopt;
    }
    if (!make_node(g, "FusedAttention", kOnnxMiniDomain, "").def) return std::nullopt;
    std::reverse(m.nodes.begin(), m.nodes.end());
    m.nodes.push_back(softmax_id);
    m.nodes.push_back(id);
    return m;
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& last = g.node(m.nodes.back());
    std::string ops;
    for (NodeId n : m.nodes) ops += (ops.empty() ? "" : ", ") + g.node(n).op_type;
    std::string line = "fused " + ops + " ending in " + quoted_name(g, last) + " into com.onnx_mini.FusedAttention";
    Fusion f = start_fusion(g, m.nodes, "FusedAttention", kOnnxMiniDomain, last.name);
    // Each optional step is a float value and a 0/1 flag: the scale and whether
    // it divides, the mask's fill and whether a true element keeps the score.
    auto set_pair = [&f](const char* value_name, float value, const char* flag_name, bool flag) {
      Attribute v, b;
      v.kind = Attribute::Kind::kFloat;
      v.f = value;
      b.kind = Attribute::Kind::kInt;
      b.i = flag ? 1 : 0;
      f.node.attrs.set(value_name, v);
      f.node.attrs.set(flag_name, b);
    };
    if (m.scale) set_pair("scale", *m.scale, "scale_divides", m.divides);
    if (m.fill) set_pair("mask_fill", *m.fill, "mask_keeps", m.keeps);
    f.node.inputs = {m.q, m.kt, m.v};
    if (m.mask != kNoId) f.node.inputs.push_back(m.mask);
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_attention() { return std::make_unique<PatternPass<FuseAttention>>(); }

}  // namespace onnx_mini
