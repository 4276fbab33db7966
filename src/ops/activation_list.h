// The one list of pointwise activations: each ONNX op's name, the versions
// onnx-mini registers, the oldest version whose semantics the FusedGemm
// epilogue reproduces, its parameters and its functor (ops/activation_functors.h).
// The standalone kernels (ops/activation.cc) are registered from it, and the
// FusedGemm epilogue (ops/fused_gemm.cc) builds its table of fusable
// activations from it, so an activation is described once.
#pragma once

#include <string>
#include <vector>

#include "ops/activation_functors.h"

namespace onnx_mini {

struct ActivationSpec {
  const char* op_type;
  std::vector<int> versions;  // every since_version registered
  // The oldest version with the semantics the FusedGemm epilogue applies
  // (version 1 of most carried `consumed_inputs`); 0 when the epilogue does
  // not apply this activation.
  int fusable_since;
  std::vector<std::string> params;  // its attributes, e.g. {"alpha"}
  bool consumed_inputs_at_v1;       // version 1 also accepts the legacy `consumed_inputs`
  // Also registered as com.onnx_mini opset 1, so the graph compiler can emit
  // it (and fuse it into FusedGemm) in models whose opset predates the ONNX op:
  // Gelu before 20, found by FuseGelu in PyTorch's exported Erf and Tanh forms.
  bool onnx_mini_form = false;
};

// Calls visit(spec, Fn{}) for every activation, Fn its functor type.
template <typename Visit>
void for_each_activation(Visit&& visit) {
  visit(ActivationSpec{"Relu", {1, 6, 13, 14}, 6, {}, true}, ReluFn{});
  visit(ActivationSpec{"Sigmoid", {1, 6, 13}, 6, {}, true}, SigmoidFn{});
  visit(ActivationSpec{"Tanh", {1, 6, 13}, 6, {}, true}, TanhFn{});
  visit(ActivationSpec{"LeakyRelu", {1, 6, 16}, 6, {"alpha"}, true}, LeakyReluFn{});
  visit(ActivationSpec{"Elu", {1, 6}, 6, {"alpha"}, true}, EluFn{});
  visit(ActivationSpec{"Selu", {1, 6}, 6, {"alpha", "gamma"}, true}, SeluFn{});
  visit(ActivationSpec{"Celu", {12}, 12, {"alpha"}, false}, CeluFn{});
  visit(ActivationSpec{"HardSigmoid", {1, 6}, 6, {"alpha", "beta"}, true}, HardSigmoidFn{});
  visit(ActivationSpec{"HardSwish", {14}, 14, {}, false}, HardSwishFn{});
  visit(ActivationSpec{"Softplus", {1}, 1, {}, false}, SoftplusFn{});
  visit(ActivationSpec{"Softsign", {1}, 1, {}, false}, SoftsignFn{});
  visit(ActivationSpec{"ThresholdedRelu", {10}, 10, {"alpha"}, false}, ThresholdedReluFn{});
  // Mish (18) at its real version, not fused. Gelu (20) fuses, and below
  // opset 20 exists as com.onnx_mini.Gelu: PyTorch's export at opset <= 17 is
  // Div/Erf/Add/Mul/Mul (or the tanh chain), which FuseGelu turns into it.
  visit(ActivationSpec{"Mish", {18}, 0, {}, false}, MishFn{});
  visit(ActivationSpec{"Gelu", {20}, 20, {"approximate"}, false, true}, GeluFn{});
}

}  // namespace onnx_mini
