#include "graph/passes/expand_fused_ops.h"

#include <algorithm>

#include "graph/passes/pattern_pass.h"

namespace onnx_mini {

// Each fused op's expansion, written beside the op it undoes.
Result<std::string> expand_fused_gemm(Graph& g, NodeId id);  // expand_fused_gemm.cc
Result<std::string> expand_fused_conv(Graph& g, NodeId id);  // expand_fused_conv.cc

namespace {

// Expansions that emit fused ops (FusedGemm -> com.onnx_mini Gelu below
// opset 20) are expanded again; a chain longer than this means two expansions
// emit each other.
constexpr int kMaxRounds = 8;

constexpr FusedOpExpansion kExpansions[] = {
    {.op_type = "FusedGemm", .expand = expand_fused_gemm},
    {.op_type = "FusedConv", .expand = expand_fused_conv},
};

class ExpandFusedOps final : public Pass {
 public:
  const char* name() const override { return "ExpandFusedOps"; }

  Result<int> run(Graph& g, const PassContext& ctx) const override {
    int expanded = 0;
    for (int round = 0; round < kMaxRounds; ++round) {
      OM_ASSIGN_OR_RETURN(int count, expand_round(g, ctx));
      if (count == 0) {
        g.opset_imports().erase(kOnnxMiniDomain);
        return expanded;
      }
      expanded += count;
    }
    return internal_error("fused ops still present after " + std::to_string(kMaxRounds) +
                          " rounds of expansion: two expansions emit each other");
  }

 private:
  static Result<int> expand_round(Graph& g, const PassContext& ctx) {
    OM_ASSIGN_OR_RETURN(std::vector<NodeId> order, g.topological_order());
    int count = 0;
    for (NodeId id : order) {
      const Node& n = g.node(id);
      if (n.removed || n.domain != kOnnxMiniDomain) continue;
      const FusedOpExpansion* e = find_fused_op_expansion(n.op_type);
      if (!e) {
        return internal_error(n.describe() + ": no expansion to standard ONNX ops for " + kOnnxMiniDomain + "." +
                              n.op_type);
      }
      auto line = e->expand(g, id);
      if (!line.is_ok()) return line.status().with_context(n.describe() + ": ");
      ctx.explain(line.value());
      ++count;
    }
    return count;
  }
};

}  // namespace

std::span<const FusedOpExpansion> fused_op_expansions() { return kExpansions; }

const FusedOpExpansion* find_fused_op_expansion(const std::string& op_type) {
  auto it = std::find_if(std::begin(kExpansions), std::end(kExpansions),
                         [&](const FusedOpExpansion& e) { return op_type == e.op_type; });
  return it == std::end(kExpansions) ? nullptr : &*it;
}

std::unique_ptr<Pass> make_expand_fused_ops() { return std::make_unique<ExpandFusedOps>(); }

ValueId add_intermediate(Graph& g, const std::string& base) {
  std::string name = base;
  for (int i = 1; g.find_value(name) != kNoId; ++i) name = base + "_" + std::to_string(i);
  return g.add_value(name);
}

ValueId add_constant(Graph& g, const std::string& base, Tensor value) {
  const ValueId v = add_intermediate(g, base);
  Value& val = g.value(v);
  val.info = TensorInfo::of(value.dtype(), value.shape());
  val.initializer = std::move(value);
  return v;
}

}  // namespace onnx_mini
