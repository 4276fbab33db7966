// FoldBatchNormalization: Conv (or Gemm / FusedGemm) -> BatchNormalization in
// inference mode, with the weight, the bias and all four BatchNormalization
// parameters constant, becomes the producer alone with new constants:
//   s = scale / sqrt(var + epsilon),  W' = W * s (per output channel),
//   B' = (B - mean) * s + bias        (Gemm: C' = beta * C * s + bias - mean * s, beta' = 1)
// computed in double and rounded once. PyTorch folds BatchNorm itself at
// export; exports with training=TrainingMode.PRESERVE and other exporters keep
// it. The folded node keeps the producer's name and writes the
// BatchNormalization's output. Anything not constant, training mode, a second
// consumer of the intermediate or a used statistics output: no fold, the
// BatchNormalization runs as its own node.
#include <cmath>

#include "graph/passes/conv_patterns.h"
#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

// BatchNormalization versions before 7 carry is_test (0: training).
constexpr int kBatchNormIsTestUntil = 7;

bool float_vector(const Graph& g, ValueId v, int64_t n) {
  const Tensor* t = v == kNoId ? nullptr : g.constant_value(v);
  return t && t->dtype() == DataType::kFloat && t->rank() == 1 && t->dim(0) == n;
}

bool inference_mode(const Graph& g, const Node& bn) {
  for (size_t i = 1; i < bn.outputs.size(); ++i) {
    if (bn.outputs[i] != kNoId && !g.is_unused(bn.outputs[i])) return false;  // running statistics wanted
  }
  auto int_attr_is = [&](const char* name, int64_t fallback, int64_t want) {
    auto v = bn.attrs.get_int(name, fallback);
    return v.is_ok() && v.value() == want;
  };
  if (!int_attr_is("training_mode", 0, 0) || !int_attr_is("spatial", 1, 1)) return false;
  return bn.def->since_version >= kBatchNormIsTestUntil || int_attr_is("is_test", 0, 1);
}

// The producer's output channels when it can take the fold: Conv's M, Gemm's N.
int64_t foldable_channels(const Graph& g, const Node& p) {
  const ValueId w = p.inputs.size() > 1 ? p.inputs[1] : kNoId;
  const Tensor* wt = w == kNoId ? nullptr : g.constant_value(w);
  if (!wt || wt->dtype() != DataType::kFloat) return -1;
  const ValueId c = p.inputs.size() > 2 ? p.inputs[2] : kNoId;
  const Tensor* ct = c == kNoId ? nullptr : g.constant_value(c);
  if (c != kNoId && (!ct || ct->dtype() != DataType::kFloat)) return -1;
  if (is_plain_conv(g, p)) {
    if (wt->rank() < 3 || (ct && (ct->rank() != 1 || ct->dim(0) != wt->dim(0)))) return -1;
    return wt->dim(0);
  }
  const bool gemm = is_op(p, "Gemm", kOnnxDomain, 7) && only_attributes(p, {"alpha", "beta", "transA", "transB"});
  const Attribute* act = p.attrs.find("activation");
  const bool fused_gemm = is_op(p, "FusedGemm", kOnnxMiniDomain, 1) && (!act || act->s.empty());
  if ((!gemm && !fused_gemm) || wt->rank() != 2 || known_rank(g, p.outputs[0]) != 2) return -1;
  auto tb = p.attrs.get_int("transB", 0);
  const int64_t n = tb.is_ok() && tb.value() ? wt->dim(0) : wt->dim(1);
  if (ct && (ct->rank() > 2 || (ct->rank() >= 1 && ct->shape().back() != 1 && ct->shape().back() != n))) return -1;
  return n;
}

struct FoldBatchNormalization {
  static constexpr const char* kName = "FoldBatchNormalization";
  struct Match {
    NodeId producer, bn;
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& bn = g.node(id);
    if (!is_op(bn, "BatchNormalization", kOnnxDomain, 1) || bn.inputs.size() != 5 || bn.outputs.empty()) {
      return std::nullopt;
    }
    const ValueId y = bn.inputs[0];
    if (!is_private_intermediate(g, y) || g.value(y).producer == kNoId || !inference_mode(g, bn)) return std::nullopt;
    const NodeId producer = g.value(y).producer;
    const int64_t channels = foldable_channels(g, g.node(producer));
    if (channels < 0) return std::nullopt;
    for (size_t i = 1; i < 5; ++i) {
      if (!float_vector(g, bn.inputs[i], channels)) return std::nullopt;
    }
    auto eps = bn.attrs.get_float("epsilon", 1e-5f);
    if (!eps.is_ok()) return std::nullopt;
    return Match{producer, id};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node p = g.node(m.producer);  // copies: adding values below may move the nodes
    const Node bn = g.node(m.bn);
    OM_ASSIGN_OR_RETURN(float eps, bn.attrs.get_float("epsilon", 1e-5f));
    const float* scale = g.constant_value(bn.inputs[1])->data<float>();
    const float* shift = g.constant_value(bn.inputs[2])->data<float>();
    const float* mean = g.constant_value(bn.inputs[3])->data<float>();
    const float* var = g.constant_value(bn.inputs[4])->data<float>();
    const int64_t n = g.constant_value(bn.inputs[1])->dim(0);
    std::vector<double> s(static_cast<size_t>(n)), t(static_cast<size_t>(n));
    for (int64_t c = 0; c < n; ++c) {
      s[c] = static_cast<double>(scale[c]) / std::sqrt(static_cast<double>(var[c]) + static_cast<double>(eps));
      t[c] = static_cast<double>(shift[c]) - static_cast<double>(mean[c]) * s[c];
    }
    Fusion f = start_fusion(g, {m.producer, m.bn}, p.op_type, p.domain, p.name);
    f.node.attrs = p.attrs;
    f.node.inputs = p.inputs;
    f.node.inputs.resize(3, kNoId);
    const bool conv = p.op_type == "Conv" || p.op_type == "FusedConv";
    if (conv) {
      fold_into_conv(g, p, s, t, f.node);
    } else {
      OM_RETURN_IF_ERROR(fold_into_gemm(g, p, s, t, f.node));
    }
    std::string line = "folded BatchNormalization " + quoted_name(g, bn) + " into " + p.op_type + " " + quoted_name(g, p);
    finalize_fusion(g, std::move(f));
    return line;
  }

 private:
  static void fold_into_conv(Graph& g, const Node& p, const std::vector<double>& s, const std::vector<double>& t,
                             Node& out) {
    const Tensor& w = *g.constant_value(p.inputs[1]);
    const Tensor* b = p.inputs.size() > 2 && p.inputs[2] != kNoId ? g.constant_value(p.inputs[2]) : nullptr;
    Tensor w2 = Tensor::allocate(DataType::kFloat, w.shape());
    const int64_t m = w.dim(0), per = w.num_elements() / m;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < per; ++j) {
        w2.data<float>()[i * per + j] = static_cast<float>(static_cast<double>(w.data<float>()[i * per + j]) * s[i]);
      }
    }
    Tensor b2 = Tensor::allocate(DataType::kFloat, {m});
    for (int64_t i = 0; i < m; ++i) {
      const double bias = b ? static_cast<double>(b->data<float>()[i]) : 0.0;
      b2.data<float>()[i] = static_cast<float>(bias * s[i] + t[i]);
    }
    out.inputs[1] = add_constant(g, g.value(p.inputs[1]).name + "_bn_folded", std::move(w2));
    out.inputs[2] = add_constant(g, p.name + "_bias_bn_folded", std::move(b2));
  }

  static Status fold_into_gemm(Graph& g, const Node& p, const std::vector<double>& s, const std::vector<double>& t,
                               Node& out) {
    OM_ASSIGN_OR_RETURN(int64_t trans_b, p.attrs.get_int("transB", 0));
    OM_ASSIGN_OR_RETURN(float beta, p.attrs.get_float("beta", 1.0f));
    const Tensor& w = *g.constant_value(p.inputs[1]);
    const int64_t n = static_cast<int64_t>(s.size());
    Tensor w2 = Tensor::allocate(DataType::kFloat, w.shape());
    for (int64_t i = 0; i < w.num_elements(); ++i) {
      const int64_t col = trans_b ? i / w.dim(1) : i % w.dim(1);
      w2.data<float>()[i] = static_cast<float>(static_cast<double>(w.data<float>()[i]) * s[col]);
    }
    // C broadcast to [rows, n], rows 1 unless C is a [M, n] or [M, 1] matrix.
    const Tensor* c = p.inputs[2] != kNoId ? g.constant_value(p.inputs[2]) : nullptr;
    const int64_t rows = c && c->rank() == 2 ? c->dim(0) : 1;
    const int64_t c_cols = c && c->rank() >= 1 ? c->shape().back() : 1;
    Tensor c2 = Tensor::allocate(DataType::kFloat, rows == 1 ? Shape{n} : Shape{rows, n});
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < n; ++j) {
        const double cv = c ? static_cast<double>(c->data<float>()[r * c_cols + (c_cols == 1 ? 0 : j)]) : 0.0;
        c2.data<float>()[r * n + j] = static_cast<float>(static_cast<double>(beta) * cv * s[j] + t[j]);
      }
    }
    Attribute one;
    one.kind = Attribute::Kind::kFloat;
    one.f = 1.0f;
    out.attrs.set("beta", one);
    out.inputs[1] = add_constant(g, g.value(p.inputs[1]).name + "_bn_folded", std::move(w2));
    out.inputs[2] = add_constant(g, p.name + "_bias_bn_folded", std::move(c2));
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Pass> make_fold_batch_normalization() {
  return std::make_unique<PatternPass<FoldBatchNormalization>>();
}

}  // namespace onnx_mini
