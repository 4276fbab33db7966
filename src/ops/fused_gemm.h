// What the graph compiler needs to know about FusedGemm (domain com.onnx_mini,
// opset 1): which ONNX activations its epilogue can apply and which of their
// attributes it carries (as `activation_<name>`).
#pragma once

#include <string>
#include <vector>

namespace onnx_mini {

struct FusedActivationInfo {
  std::string op_type;              // the ONNX op, e.g. "LeakyRelu"
  int min_since_version;            // the oldest ONNX definition with these semantics
  std::vector<std::string> params;  // its attributes, e.g. {"alpha"}
  bool onnx_mini_form;              // also an op of com.onnx_mini (opset 1), e.g. Gelu below opset 20
};

// Null when the epilogue cannot apply this op.
const FusedActivationInfo* find_fused_activation(const std::string& op_type);

inline constexpr const char* kFusedActivationPrefix = "activation_";

}  // namespace onnx_mini
