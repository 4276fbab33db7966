// LowerLinearToFusedGemm: a Gemm or a MatMul against a constant 2-D float weight
// (an nn.Linear without a following activation: the output layer; or without a
// bias: MatMul alone) becomes FusedGemm with no activation, so that it takes the
// same kernel as the fused layers: the weight packed once at session build
// (ops/packed_gemm.h) instead of OpenBLAS repacking it on every call. Runs after
// FuseMatMulAddIntoGemm and before FuseGemmActivation, which then fuses an
// activation that follows a lowered MatMul. Same attributes, inputs and output
// name: FusedGemm computes exactly Gemm (and MatMul with a 2-D B: A's leading
// dims flattened into M).
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

struct LowerLinearToFusedGemm {
  static constexpr const char* kName = "LowerLinearToFusedGemm";
  struct Match {
    NodeId node;
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& n = g.node(id);
    const bool gemm = is_op(n, "Gemm", kOnnxDomain, 7) && only_attributes(n, {"alpha", "beta", "transA", "transB"});
    const bool matmul = is_op(n, "MatMul", kOnnxDomain, 1) && n.inputs.size() == 2;
    if ((!gemm && !matmul) || n.outputs.size() != 1 || n.inputs.size() < 2) return std::nullopt;
    const ValueId a = n.inputs[0], b = n.inputs[1];
    // The weight: a constant the caller cannot override, 2-D float.
    if (!g.is_constant(b) || !is_float(g, b) || known_rank(g, b) != 2) return std::nullopt;
    if (!is_float(g, a) || !is_float(g, n.outputs[0])) return std::nullopt;
    // MatMul with a 1-D A ([K] x [K, N] -> [N]) has no FusedGemm form.
    if (matmul && known_rank(g, a) < 2) return std::nullopt;
    if (gemm && n.inputs.size() == 3 && n.inputs[2] != kNoId && !is_float(g, n.inputs[2])) return std::nullopt;
    if (!make_node(g, "FusedGemm", kOnnxMiniDomain, "").def) return std::nullopt;
    return Match{id};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& n = g.node(m.node);
    Fusion f = start_fusion(g, {m.node}, "FusedGemm", kOnnxMiniDomain, n.name);
    f.node.attrs = n.attrs;  // Gemm's alpha/beta/transA/transB; MatMul has none
    f.node.inputs = n.inputs;
    std::string line = "lowered " + n.op_type + " " + quoted_name(g, n) + " to FusedGemm (constant weight)";
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_lower_linear_to_fused_gemm() {
  return std::make_unique<PatternPass<LowerLinearToFusedGemm>>();
}

}  // namespace onnx_mini
