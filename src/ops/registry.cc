#include "ops/registry.h"

#include <algorithm>

namespace onnx_mini {

void OpRegistry::add(OpDef def) {
  auto& versions = defs_[{def.domain, def.op_type}];
  std::vector<int> copies = std::move(def.also_since);
  def.also_since.clear();
  for (int since : copies) {
    OpDef copy = def;
    copy.since_version = since;
    versions.push_back(std::move(copy));
  }
  versions.push_back(std::move(def));
  std::sort(versions.begin(), versions.end(),
            [](const OpDef& a, const OpDef& b) { return a.since_version < b.since_version; });
}

const OpDef* OpRegistry::find(const std::string& op_type, const std::string& domain, int opset) const {
  auto it = defs_.find({domain, op_type});
  if (it == defs_.end()) return nullptr;
  const OpDef* best = nullptr;
  for (const OpDef& d : it->second) {
    if (d.since_version <= opset) best = &d;
  }
  return best;
}

bool OpRegistry::knows(const std::string& op_type, const std::string& domain) const {
  return defs_.count({domain, op_type}) != 0;
}

std::vector<const OpDef*> OpRegistry::all() const {
  std::vector<const OpDef*> out;
  for (const auto& [key, versions] : defs_) {
    for (const OpDef& d : versions) out.push_back(&d);
  }
  return out;
}

const OpRegistry& default_registry() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    register_activation_ops(r);
    register_softmax_ops(r);
    register_gemm_ops(r);
    register_shape_ops(r);
    register_loss_ops(r);
    register_fused_ops(r);
    register_conv_ops(r);
    register_conv_transpose_ops(r);
    register_unary_math_ops(r);
    register_compare_logic_ops(r);
    register_reduce_ops(r);
    register_cast_ops(r);
    register_layout_ops(r);
    register_gather_ops(r);
    register_slice_concat_ops(r);
    register_generator_ops(r);
    register_layer_norm_ops(r);
    register_attention_ops(r);
    register_pool_ops(r);
    register_normalization_ops(r);
    register_pad_ops(r);
    register_rearrange_ops(r);
    register_resize_ops(r);
    register_trigonometric_ops(r);
    register_binary_math_ops(r);
    register_recurrent_ops(r);
    register_quantize_ops(r);
    register_diagonal_ops(r);
    register_cumulative_ops(r);
    register_group_norm_ops(r);
    register_lp_norm_ops(r);
    register_einsum_ops(r);
    register_topk_ops(r);
    register_scatter_ops(r);
    register_gather_nd_ops(r);
    register_nonzero_ops(r);
    register_control_flow_ops(r);
    return r;
  }();
  return registry;
}

Status infer_same_as_input0(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  const TensorInfo* x = node.input(0);
  if (!x) return invalid_model("missing input 0");
  outputs[0] = *x;
  outputs[0].constant = nullptr;
  return Status::ok();
}

}  // namespace onnx_mini
