#include "graph/passes/pass_manager.h"

namespace onnx_mini {

std::vector<std::unique_ptr<Pass>> default_passes(int opt_level) {
  std::vector<std::unique_ptr<Pass>> passes;
  if (opt_level <= 0) return passes;
  return passes;
}

Status optimize_graph(Graph& g, const PassContext& ctx) {
  for (const auto& pass : default_passes(ctx.opt_level)) {
    auto changed = pass->run(g, ctx);
    if (!changed.is_ok()) return changed.status().with_context(std::string("pass ") + pass->name() + ": ");
    if (ctx.verify_each) {
      Status s = verify_graph(g);
      if (!s.is_ok()) return s.with_context(std::string("after pass ") + pass->name() + ": ");
    }
  }
  return Status::ok();
}

}  // namespace onnx_mini
