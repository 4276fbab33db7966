// The portable form of an optimized graph: every op of onnx-mini's own domain
// (com.onnx_mini: FusedGemm and the other fused ops the passes emit) rewritten
// back into standard ONNX ops, so that any runtime (ONNX Runtime, Netron,
// onnx.checker) reads the model, with the clean-ups (folded constants, removed
// dead nodes) kept. onnx-run --save-optimized FILE --portable writes it.
//
// Each fused op has exactly one expansion, listed in fused_op_expansions() and
// written beside the op it undoes (expand_<op>.cc). An expansion may emit other
// com.onnx_mini ops (FusedGemm with a Gelu epilogue emits a Gelu node, which is
// itself fused below opset 20); the pass repeats until none is left. A test
// fails when a com.onnx_mini op is registered without an expansion.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "graph/passes/pass.h"

namespace onnx_mini {

// Replaces node `id` by standard ops that compute the same outputs under the
// same value names; returns the --explain line. An op it cannot express at the
// graph's opset is an unsupported() error naming the node.
using ExpandFn = Result<std::string> (*)(Graph& g, NodeId id);

struct FusedOpExpansion {
  const char* op_type;  // in kOnnxMiniDomain
  ExpandFn expand;
};

// One entry per fused op; the list lives in expand_fused_ops.cc.
std::span<const FusedOpExpansion> fused_op_expansions();
const FusedOpExpansion* find_fused_op_expansion(const std::string& op_type);

// The pass: expands every com.onnx_mini node (repeatedly, for expansions that
// emit fused ops), then drops com.onnx_mini from the graph's opset imports.
std::unique_ptr<Pass> make_expand_fused_ops();

// Helpers for expansions: a fresh intermediate value named after `base`, and a
// constant initializer (never overridable by the caller).
ValueId add_intermediate(Graph& g, const std::string& base);
ValueId add_constant(Graph& g, const std::string& base, Tensor value);

// Builds an expansion as a chain of standard ops for node `fused`: each op()
// appends a node named after `fused` that writes a fresh value (or `out`), an
// unsupported() error when the graph's ai.onnx opset lacks the op. `nodes` then
// go to replace_nodes.
struct ExpansionBuilder {
  Graph& g;
  const Node& fused;
  std::vector<Node> nodes;

  Result<ValueId> op(const char* op_type, std::vector<ValueId> inputs, ValueId out = kNoId, Attributes attrs = {});
  ValueId float_constant(const char* what, float v);
  // "expanded <op> 'name' into A B C".
  std::string explain() const;
};

}  // namespace onnx_mini
