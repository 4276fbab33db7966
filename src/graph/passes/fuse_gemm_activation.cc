// FuseGemmActivation: Gemm -> activation (Relu, LeakyRelu, Sigmoid, Tanh, Gelu
// (also com.onnx_mini.Gelu), ...: whatever FusedGemm's epilogue applies, see
// ops/fused_gemm.h) becomes one
// FusedGemm whose epilogue adds the bias and applies the activation while the
// output is in cache. Also takes a FusedGemm without activation (from
// FuseMatMulAddIntoGemm on N-D inputs). The fused node is named after the Gemm
// and writes the activation's output name.
#include <algorithm>

#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"
#include "ops/fused_gemm.h"

namespace onnx_mini {
namespace {

struct FuseGemmActivation {
  static constexpr const char* kName = "FuseGemmActivation";
  struct Match {
    NodeId gemm, act;
  };

  static bool is_plain_gemm(const Node& n) {
    if (is_op(n, "Gemm", kOnnxDomain, 7)) return only_attributes(n, {"alpha", "beta", "transA", "transB"});
    if (!is_op(n, "FusedGemm", kOnnxMiniDomain, 1)) return false;
    const Attribute* act = n.attrs.find("activation");
    return !act || (act->kind == Attribute::Kind::kString && act->s.empty());
  }

  // The ONNX op at a version whose semantics the epilogue applies, or its
  // com.onnx_mini form (Gelu below opset 20, emitted by FuseGelu).
  static bool same_semantics(const Node& act, const FusedActivationInfo& info) {
    if (act.domain == kOnnxDomain) return act.def->since_version >= info.min_since_version;
    return act.domain == kOnnxMiniDomain && info.onnx_mini_form;
  }

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& gemm = g.node(id);
    if (!is_plain_gemm(gemm) || gemm.outputs.size() != 1) return std::nullopt;
    const ValueId y = gemm.outputs[0];
    if (!is_private_intermediate(g, y) || !is_float(g, y) || !is_float(g, gemm.inputs[0])) return std::nullopt;
    const NodeId act_id = g.sole_consumer(y);
    const Node& act = g.node(act_id);
    if (act.removed || !act.def) return std::nullopt;
    const FusedActivationInfo* info = find_fused_activation(act.op_type);
    if (!info || !same_semantics(act, *info)) return std::nullopt;
    if (act.inputs.size() != 1 || act.outputs.size() != 1 || !is_float(g, act.outputs[0])) return std::nullopt;
    for (const auto& [name, a] : act.attrs.all()) {
      if (std::find(info->params.begin(), info->params.end(), name) == info->params.end()) return std::nullopt;
    }
    if (!make_node(g, "FusedGemm", kOnnxMiniDomain, "").def) return std::nullopt;
    return Match{id, act_id};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& gemm = g.node(m.gemm);
    const Node& act = g.node(m.act);
    Fusion f = start_fusion(g, {m.gemm, m.act}, "FusedGemm", kOnnxMiniDomain, gemm.name);
    f.node.attrs = gemm.attrs;
    Attribute name;
    name.kind = Attribute::Kind::kString;
    name.s = act.op_type;
    f.node.attrs.set("activation", name);
    for (const auto& [param, a] : act.attrs.all()) f.node.attrs.set(kFusedActivationPrefix + param, a);
    f.node.inputs = gemm.inputs;
    std::string line = "fused " + act.op_type + " " + quoted_name(g, act) + " into " + gemm.op_type + " " +
                       quoted_name(g, gemm);
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_gemm_activation() { return std::make_unique<PatternPass<FuseGemmActivation>>(); }

}  // namespace onnx_mini
