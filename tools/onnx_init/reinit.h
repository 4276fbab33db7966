// `onnx-init reinit`: re-draw the initializers of an existing model.
//
// Fans come from how the consuming node uses each tensor, not from axis 1 blindly:
//   Gemm B with transB=1 is [out, in]; without transB it is [in, out] (likewise A/transA);
//   MatMul's right operand is [..., in, out]; Conv/ConvTranspose weights follow PyTorch's
//   [out, in/groups, k...] rule. A tensor is a bias when it is Gemm's C, Conv's B, or the
//   constant operand of an Add fed by such a layer; a bias's default is nn.Linear's
//   uniform(+-1/sqrt(fan_in)) with its weight's fan_in.
// Tensors with no recognised role keep their values unless --match names them
// explicitly; then PyTorch's axis rule gives their fans, as torch.nn.init would.
#pragma once

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "onnx_init/init_schemes.h"

namespace onnx_mini::init {

struct ReinitOptions {
  InitScheme weight_init;
  BiasInit bias_init;
  std::optional<std::string> match;  // a pattern searched in initializer names (name_pattern.h)
  uint64_t seed = 0;
  std::string command_line;  // recorded in metadata_props
};

// One line per initializer saying what happened to it and why.
struct ReinitReport {
  std::vector<std::string> changed;
  std::vector<std::string> unchanged;
};

// Rewrites the selected initializers of `model` in place (initializer order consumes the
// generator) and records the recipe in metadata_props. On error the model is untouched.
Result<ReinitReport> reinit_model(onnx::ModelProto& model, const ReinitOptions& options);

}  // namespace onnx_mini::init
