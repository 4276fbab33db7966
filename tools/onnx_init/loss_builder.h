// Output heads and training-loss heads of `onnx-init mlp`.
//
// The loss is applied to the model's output, as in PyTorch's `loss_fn(model(x), y)`;
// that fixes which head each loss accepts (cross_entropy and bce_with_logits take raw
// scores, nll takes log-probabilities, bce takes probabilities), and a mismatched pair
// is refused rather than silently computing e.g. softmax twice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "onnx_init/onnx_graph_builder.h"

namespace onnx_mini::init {

enum class Head { kNone, kSoftmax, kLogSoftmax, kSigmoid };
enum class Loss { kNone, kCrossEntropy, kNll, kMse, kL1, kBce, kBceWithLogits };
enum class Reduction { kMean, kSum, kNone };

Result<Head> parse_head(std::string_view text);
Result<Loss> parse_loss(std::string_view text);
Result<Reduction> parse_reduction(std::string_view text);
std::string to_string(Head head);
std::string to_string(Loss loss);
std::string to_string(Reduction reduction);

// Error for a head the loss cannot consume, or an opset without the loss's ops.
Status check_head_and_loss(Head head, Loss loss, int opset);

// Emits the head from `scores` into the value `output` (for Head::kNone the caller
// names the last layer's output `output` itself and nothing is emitted).
void emit_head(GraphBuilder& g, Head head, const std::string& scores, const std::string& output);

// Names of the values the loss adds to the graph.
inline constexpr const char* kLabelsInput = "labels";    // int64 [batch]: class indices
inline constexpr const char* kTargetsInput = "targets";  // float [batch, classes]
inline constexpr const char* kLossOutput = "loss";

// Adds the labels/targets input, the loss nodes on `prediction` (shape
// [batch_dim, classes]) and the `loss` output: a scalar, or per-sample/per-element
// for Reduction::kNone.
void emit_loss(GraphBuilder& g, Loss loss, Reduction reduction, const std::string& prediction,
               const std::string& batch_dim, int64_t classes);

}  // namespace onnx_mini::init
