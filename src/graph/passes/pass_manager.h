#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "graph/passes/pass.h"

namespace onnx_mini {

// One factory per pass (graph/passes/<verb_noun>.cc).
std::unique_ptr<Pass> make_eliminate_identity();
// Folds nodes whose inputs are all constant; outputs above max_output_bytes stay computed at run time.
inline constexpr int64_t kDefaultFoldLimitBytes = int64_t{64} << 20;
std::unique_ptr<Pass> make_fold_constants(int64_t max_output_bytes = kDefaultFoldLimitBytes);
std::unique_ptr<Pass> make_eliminate_dead_nodes();
std::unique_ptr<Pass> make_fuse_matmul_add_into_gemm();
std::unique_ptr<Pass> make_lower_linear_to_fused_gemm();
std::unique_ptr<Pass> make_fuse_gelu();
std::unique_ptr<Pass> make_fuse_layer_norm();
std::unique_ptr<Pass> make_fuse_attention();
std::unique_ptr<Pass> make_fuse_gemm_activation();
std::unique_ptr<Pass> make_fuse_softmax_cross_entropy();
std::unique_ptr<Pass> make_fold_batch_normalization();
std::unique_ptr<Pass> make_crop_conv_kernel();
std::unique_ptr<Pass> make_fuse_conv_add();
std::unique_ptr<Pass> make_fuse_conv_activation();

// float16/bfloat16 nodes whose kernels take only float32 compute in float32,
// with exact widening and rounding Casts (legalize_half_types.cc).
std::unique_ptr<Pass> make_legalize_half_types();

// The passes every graph needs to run, whatever the optimisation level.
std::vector<std::unique_ptr<Pass>> required_passes();
// The passes of an optimisation level, in the order they run.
std::vector<std::unique_ptr<Pass>> default_passes(int opt_level);

// Runs the passes in order; after a pass that changed the graph, re-infers shapes
// (folding can make shapes known downstream); verifies after each pass when asked.
Status run_passes(Graph& g, const std::vector<std::unique_ptr<Pass>>& passes, const PassContext& ctx);

// run_passes(required_passes()), then run_passes(default_passes(ctx.opt_level)):
// the optimisations see a graph every kernel can run.
Status optimize_graph(Graph& g, const PassContext& ctx);

}  // namespace onnx_mini
