// FuseMatMulAddIntoGemm: MatMul(A, B) -> Add(., bias) with B 2-D [K, N] and a
// 1-D bias of size N (the nn.Linear export without Gemm) becomes one GEMM with
// the bias as C. A 2-D A gives ONNX Gemm; an A of rank > 2 (leading dims
// flattened into M, as MatMul broadcasting does when B is 2-D) gives FusedGemm,
// whose A may be N-D, with no activation. Either is then a candidate for
// FuseGemmActivation.
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

struct FuseMatMulAddIntoGemm {
  static constexpr const char* kName = "FuseMatMulAddIntoGemm";
  struct Match {
    NodeId matmul, add;
    ValueId bias;
    bool nd;  // A has rank > 2: emit FusedGemm
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& mm = g.node(id);
    if (!is_op(mm, "MatMul", kOnnxDomain, 1) || mm.inputs.size() != 2 || mm.outputs.size() != 1) return std::nullopt;
    const ValueId a = mm.inputs[0], b = mm.inputs[1], y = mm.outputs[0];
    if (!is_private_intermediate(g, y)) return std::nullopt;
    const NodeId add_id = g.sole_consumer(y);
    const Node& add = g.node(add_id);
    if (!is_op(add, "Add", kOnnxDomain, 7) || !only_attributes(add, {}) || add.inputs.size() != 2) return std::nullopt;
    if (add.inputs[0] == add.inputs[1]) return std::nullopt;  // Add(y, y) is not a bias
    const ValueId bias = add.inputs[0] == y ? add.inputs[1] : add.inputs[0];
    if (!is_float(g, a) || !is_float(g, b) || !is_float(g, bias) || !is_float(g, add.outputs[0])) return std::nullopt;
    const int64_t rank_a = known_rank(g, a);
    if (rank_a < 2 || known_rank(g, b) != 2 || known_rank(g, bias) != 1) return std::nullopt;
    const Dim& n = g.value(b).info.dims[1];
    const Dim& bias_n = g.value(bias).info.dims[0];
    if (!n.known() || !bias_n.known() || n.value != bias_n.value) return std::nullopt;
    const bool nd = rank_a > 2;
    if (!make_node(g, nd ? "FusedGemm" : "Gemm", nd ? kOnnxMiniDomain : kOnnxDomain, "").def) return std::nullopt;
    return Match{id, add_id, bias, nd};
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node& mm = g.node(m.matmul);
    const Node& add = g.node(m.add);
    Fusion f = start_fusion(g, {m.matmul, m.add}, m.nd ? "FusedGemm" : "Gemm", m.nd ? kOnnxMiniDomain : kOnnxDomain,
                            mm.name);
    f.node.inputs = {mm.inputs[0], mm.inputs[1], m.bias};
    std::string line = "fused MatMul " + quoted_name(g, mm) + " and Add " + quoted_name(g, add) + " into " +
                       f.node.op_type + " " + quoted_name(g, f.node);
    finalize_fusion(g, std::move(f));
    return line;
  }
};

}  // namespace

std::unique_ptr<Pass> make_fuse_matmul_add_into_gemm() {
  return std::make_unique<PatternPass<FuseMatMulAddIntoGemm>>();
}

}  // namespace onnx_mini
