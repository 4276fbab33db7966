// `onnx-init mlp`: a multi-layer perceptron as an ONNX model whose weights are drawn
// like PyTorch's nn.Linear stack with the chosen torch.nn.init scheme.
//
// Layout of the created graph (names as PyTorch's exporter would give them):
//   input [batch, L0] -> fc1 -> act -> fc2 -> act ... -> fcN -> head -> output [batch, LN]
//   with initializers fc1.weight, fc1.bias, ...; optionally labels/targets -> loss.
// The RNG is consumed in the order fc1.weight, fc1.bias, fc2.weight, ... so a recipe
// (scheme, seed) reproduces the same bytes.
#pragma once

#include <cstdint>
#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "onnx_init/activations.h"
#include "onnx_init/init_schemes.h"
#include "onnx_init/loss_builder.h"

namespace onnx_mini::init {

inline constexpr const char* kToolVersion = "onnx-mini " ONNX_MINI_VERSION;
inline constexpr int kMinOpset = 7;
inline constexpr int kMaxOpset = 17;  // the newest opset Debian 12's onnx 1.12 checker knows
inline constexpr int kDefaultOpset = 13;
inline constexpr const char* kBatchDim = "batch";
inline constexpr const char* kInputName = "input";
inline constexpr const char* kOutputName = "output";

enum class LayerType {
  kGemm,    // Gemm(x, W[out,in], b, transB=1): what torch.onnx.export writes for nn.Linear
  kMatMul,  // MatMul(x, W[in,out]) + Add(b)
};
Result<LayerType> parse_layer_type(std::string_view text);
std::string to_string(LayerType type);

// nn.Linear's weight default: kaiming_uniform with a = sqrt(5), fan_in, leaky_relu,
// which is uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)).
InitScheme torch_linear_weight_default();

struct MlpOptions {
  std::vector<int64_t> layers;  // widths: input, hidden..., output
  Activation activation;        // between hidden layers, not after the last
  Head head = Head::kNone;
  Loss loss = Loss::kNone;
  Reduction reduction = Reduction::kMean;
  LayerType layer_type = LayerType::kGemm;
  InitScheme weight_init = torch_linear_weight_default();
  BiasInit bias_init;
  uint64_t seed = 0;
  int opset = kDefaultOpset;
  std::string command_line;  // recorded in metadata_props (without the output path)
};

// Every check that does not need random numbers, so errors come before any work.
Status validate_mlp_options(const MlpOptions& options);
Result<onnx::ModelProto> build_mlp(const MlpOptions& options);

}  // namespace onnx_mini::init
