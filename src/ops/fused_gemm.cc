// FusedGemm (com.onnx_mini, opset 1): Y = act(alpha * op(A) * op(B) + beta * C).
//
// Attributes: transA, transB, alpha, beta as ONNX Gemm; `activation` (the ONNX op
// name of the epilogue, "" for none) and `activation_<param>` for its parameters
// (activation_alpha, activation_beta, activation_gamma). Unlike Gemm, A may have
// rank > 2 when transA = 0: its leading dims are flattened into M and kept in the
// output ([..., K] x [K, N] -> [..., N]), which is what MatMul + Add computes.
//
// The product and the epilogue are the one float GEMM (ops/float_gemm.h) that
// also runs Gemm and MatMul; this file adds only the activation, built from the
// list of ops/activation_list.h.
#include <algorithm>
#include <memory>
#include <vector>

#include "ops/activation_list.h"
#include "ops/float_gemm.h"
#include "ops/fused_gemm.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

using EpilogueFactory = Result<std::unique_ptr<Epilogue>> (*)(const Attributes& params);

struct ActivationEntry {
  FusedActivationInfo info;
  EpilogueFactory make;
};

// The activations of activation_list.h that the epilogue applies, each through
// the same functor as its standalone kernel.
const std::vector<ActivationEntry>& activation_table() {
  static const std::vector<ActivationEntry> table = [] {
    std::vector<ActivationEntry> t;
    for_each_activation([&t](const ActivationSpec& spec, auto fn) {
      if (spec.fusable_since == 0) return;
      t.push_back({{spec.op_type, spec.fusable_since, spec.params, spec.onnx_mini_form}, make_epilogue<decltype(fn)>});
    });
    return t;
  }();
  return table;
}

const ActivationEntry* find_entry(const std::string& op_type) {
  for (const auto& e : activation_table()) {
    if (e.info.op_type == op_type) return &e;
  }
  return nullptr;
}

std::string supported_activations() {
  std::string known;
  for (const auto& e : activation_table()) known += (known.empty() ? "" : ", ") + e.info.op_type;
  return known;
}

// The epilogue named by `activation`, with its `activation_<param>` attributes
// passed under their ONNX names; none: the identity.
Result<std::unique_ptr<Epilogue>> epilogue_from(const Attributes& attrs) {
  OM_ASSIGN_OR_RETURN(std::string act, attrs.get_string("activation", ""));
  Attributes params;
  const std::string prefix = kFusedActivationPrefix;
  for (const auto& [name, a] : attrs.all()) {
    if (name.rfind(prefix, 0) == 0) params.set(name.substr(prefix.size()), a);
  }
  if (act.empty()) {
    if (!params.all().empty()) return invalid_model("activation parameters given without an activation");
    return make_epilogue<IdentityFn>(params);
  }
  const ActivationEntry* entry = find_entry(act);
  if (!entry) {
    return unsupported("FusedGemm activation '" + act + "' is not supported (supported: " + supported_activations() +
                       ")");
  }
  for (const auto& [name, a] : params.all()) {
    if (std::find(entry->info.params.begin(), entry->info.params.end(), name) == entry->info.params.end()) {
      return invalid_model("attribute 'activation_" + name + "' is not a parameter of " + act);
    }
  }
  return entry->make(params);
}

class FusedGemm final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(GemmAttributes attrs, GemmAttributes::parse(node.attrs()));
    OM_ASSIGN_OR_RETURN(std::unique_ptr<Epilogue> epilogue, epilogue_from(node.attrs()));
    return gemm_.init(node, attrs, kBatchedA, std::move(epilogue));
  }
  Status run(KernelContext& ctx) const override { return gemm_.run(ctx); }
  bool reads_input_at_run(int i) const override { return !(i == 1 && gemm_.packed()); }

 private:
  FloatGemm gemm_;
};

Status infer_fused_gemm(const NodeInfo& node, std::vector<TensorInfo>& outputs) {
  OM_ASSIGN_OR_RETURN(GemmAttributes attrs, GemmAttributes::parse(node.attrs()));
  OM_ASSIGN_OR_RETURN(std::string act, node.attrs().get_string("activation", ""));
  if (!act.empty() && !find_entry(act)) return unsupported("FusedGemm activation '" + act + "' is not supported");
  const TensorInfo* a = node.input(0);
  const TensorInfo* b = node.input(1);
  if (a->dtype != DataType::kFloat || b->dtype != DataType::kFloat) {
    return unsupported("FusedGemm runs on float, got A " + a->to_string() + " and B " + b->to_string());
  }
  return infer_gemm_output(node, attrs, kBatchedA, outputs);
}

}  // namespace

const FusedActivationInfo* find_fused_activation(const std::string& op_type) {
  const ActivationEntry* e = find_entry(op_type);
  return e ? &e->info : nullptr;
}

void register_fused_ops(OpRegistry& r) {
  r.add({.op_type = "FusedGemm",
         .domain = kOnnxMiniDomain,
         .since_version = 1,
         .min_inputs = 2,
         .max_inputs = 3,
         .min_outputs = 1,
         .max_outputs = 1,
         .attributes = {"alpha", "beta", "transA", "transB", "activation", "activation_alpha", "activation_beta",
                        "activation_gamma"},
         .infer = infer_fused_gemm,
         .create = make_kernel<FusedGemm>()});
}

}  // namespace onnx_mini
