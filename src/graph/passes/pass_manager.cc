#include "graph/passes/pass_manager.h"

#include "core/printable.h"

namespace onnx_mini {
namespace {

// Debug builds verify the IR after every pass whatever the options say.
#ifdef NDEBUG
constexpr bool kAlwaysVerify = false;
#else
constexpr bool kAlwaysVerify = true;
#endif

}  // namespace

std::vector<std::unique_ptr<Pass>> required_passes() {
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(make_legalize_half_types());
  return passes;
}

std::vector<std::unique_ptr<Pass>> default_passes(int opt_level) {
  std::vector<std::unique_ptr<Pass>> passes;
  if (opt_level <= 0) return passes;
  // Clean-ups first so the fusions see the graph the way a person would draw it:
  // no Identity between Gemm and Relu, shape chains already folded to constants.
  passes.push_back(make_eliminate_identity());
  passes.push_back(make_fold_constants());
  passes.push_back(make_eliminate_dead_nodes());
  // Exported GELU chains become one Gelu first, so the activation fusion below
  // can fold it into the GEMM before it.
  passes.push_back(make_fuse_gelu());
  passes.push_back(make_fuse_layer_norm());
  // Attention's MatMul -> scale -> mask -> Softmax -> MatMul before the MatMul
  // + Add fusion below could take its first MatMul and the mask Add.
  passes.push_back(make_fuse_attention());
  // MatMul + Add becomes Gemm before the activation fusion looks for Gemm; the
  // Gemms and MatMuls against a constant weight then become FusedGemm (packed
  // kernel), and the activation fusion folds what follows them into their epilogue.
  passes.push_back(make_fuse_matmul_add_into_gemm());
  passes.push_back(make_lower_linear_to_fused_gemm());
  // A constant BatchNormalization disappears into the Conv or Gemm before it,
  // so that the activation after it can fuse too.
  passes.push_back(make_fold_batch_normalization());
  // A kernel that overhangs a small input on every output pixel loses the taps
  // that read only padding (the weight it streams shrinks with them).
  passes.push_back(make_crop_conv_kernel());
  passes.push_back(make_fuse_gemm_activation());
  // The residual Add first, then the activation after it: relu(conv + skip).
  passes.push_back(make_fuse_conv_add());
  passes.push_back(make_fuse_conv_activation());
  passes.push_back(make_fuse_softmax_cross_entropy());
  return passes;
}

Status run_passes(Graph& g, const std::vector<std::unique_ptr<Pass>>& passes, const PassContext& ctx) {
  for (const auto& pass : passes) {
    auto changed = pass->run(g, ctx);
    if (!changed.is_ok()) return changed.status().with_context(std::string("pass ") + pass->name() + ": ");
    if (changed.value() > 0) {
      Status s = infer_shapes(g);
      if (!s.is_ok()) return s.with_context(std::string("shape inference after pass ") + pass->name() + ": ");
    }
    if (ctx.verify_each || kAlwaysVerify) {
      Status s = verify_graph(g);
      if (!s.is_ok()) return s.with_context(std::string("after pass ") + pass->name() + ": ");
    }
  }
  return Status::ok();
}

namespace {

// The same passes inside every subgraph, after the enclosing graph's (which
// may have renamed the values a subgraph captures: it binds them by position).
// Nothing a pass does inside a subgraph reaches outside it: a captured value
// is neither constant (not folded) nor removable (the enclosing node reads it
// as an implicit input), and a Loop body's carried values are formal inputs.
// Recursion depth is bounded by kMaxSubgraphDepth, checked at load.
Status optimize_subgraphs(Graph& g, const PassContext& ctx) {
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    Node& n = g.node(static_cast<NodeId>(i));
    if (n.removed) continue;
    for (NodeSubgraph& sub : n.subgraphs) {
      const std::string where = n.describe() + " attribute " + quote(sub.attribute) + ": ";
      PassContext inner = ctx;
      if (ctx.log) inner.log = [log = ctx.log, where](const std::string& line) { log("in " + where + line); };
      Status s = optimize_graph(*sub.graph, inner);
      if (!s.is_ok()) return s.with_context(where);
    }
  }
  return Status::ok();
}

}  // namespace

Status optimize_graph(Graph& g, const PassContext& ctx) {
  OM_RETURN_IF_ERROR(run_passes(g, required_passes(), ctx));
  OM_RETURN_IF_ERROR(run_passes(g, default_passes(ctx.opt_level), ctx));
  return optimize_subgraphs(g, ctx);
}

}  // namespace onnx_mini
