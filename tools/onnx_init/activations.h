// Hidden-layer activations of `onnx-init mlp`: parsing "leaky_relu:0.2" and emitting
// the ONNX nodes for a given opset. Where an activation's own op is newer than the
// opset (HardSwish < 14, Mish < 18, Gelu < 20) we emit its exact definition from the
// ONNX spec in older ops rather than refuse, so every activation works at the default
// opset; where no such form exists in the opset, the opset is refused.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "onnx_init/onnx_graph_builder.h"

namespace onnx_mini::init {

enum class ActivationKind {
  kIdentity, kRelu, kLeakyRelu, kSigmoid, kTanh, kElu, kSelu, kCelu, kSoftplus, kSoftsign,
  kGelu, kHardSigmoid, kHardSwish, kMish,
};

struct Activation {
  ActivationKind kind = ActivationKind::kRelu;
  double alpha = 0.0;  // leaky_relu slope, elu/celu alpha, hardsigmoid alpha
  double beta = 0.0;   // hardsigmoid beta
};

// "relu", "leaky_relu[:ALPHA]" (0.01), "elu[:ALPHA]" (1), "celu[:ALPHA]" (1),
// "hardsigmoid[:ALPHA,BETA]" (PyTorch's 1/6, 0.5 — not ONNX's 0.2, 0.5), ...
Result<Activation> parse_activation(std::string_view spec);
std::string to_string(const Activation& act);
// Error when the activation cannot be expressed at `opset`.
Status check_activation_opset(const Activation& act, int opset);
// Emits act(input) with nodes named "<scope>/..."; returns the output value name.
std::string emit_activation(GraphBuilder& g, const Activation& act, const std::string& input,
                            const std::string& scope);

}  // namespace onnx_mini::init
