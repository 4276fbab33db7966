// Classification losses behind the SoftmaxCrossEntropyLoss and
// NegativeLogLikelihoodLoss kernels (ops/loss.cc). The graph compiler reaches
// softmax_cross_entropy_forward through the SoftmaxCrossEntropyLoss node that
// FuseSoftmaxCrossEntropy makes of LogSoftmax -> NLL, not by calling it.
//
// Layout: scores / log-probabilities [N, C, d1..dk] (k >= 0), labels [N, d1..dk]
// (int32 or int64), optional class weights [C]. Semantics follow the ONNX spec
// and PyTorch: a label equal to ignore_index contributes loss 0 and weight 0;
// reduction "mean" is sum(w_i * loss_i) / sum(w_i) over the non-ignored
// positions (NaN when every position is ignored, as PyTorch), "sum" is the plain
// sum (0 over nothing), "none" keeps the [N, d1..dk] losses. A label outside
// [0, C) that is not ignore_index is a bad_input error naming its position and
// value; it is never used as an index.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/shape.h"
#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

enum class LossReduction { kNone, kSum, kMean };

struct LossOptions {
  LossReduction reduction = LossReduction::kMean;
  std::optional<int64_t> ignore_index;
};

// Parses the ONNX `reduction` attribute value.
Result<LossReduction> parse_loss_reduction(const std::string& s);

// Shape of the loss output: [] when reduced, labels' shape for "none".
// Checks scores/labels/weight shapes and dtypes agree (bad_input otherwise).
Result<Shape> loss_output_shape(const Tensor& scores, const Tensor& labels, const Tensor* weight,
                                LossReduction reduction);

// loss = -log_softmax(scores, axis 1)[label] * weight[label], reduced.
// log-sum-exp is max-shifted per row and accumulated in double, so logits of 1e4
// give an exact finite loss; probabilities are never materialised. `log_prob`
// (nullable) receives the log-softmax, shaped like scores. `loss` must already
// have loss_output_shape(); float and double scores.
Status softmax_cross_entropy_forward(const Tensor& scores, const Tensor& labels, const Tensor* weight,
                                     const LossOptions& options, Tensor& loss, Tensor* log_prob);

// loss = -log_prob[label] * weight[label], reduced (the input already holds
// log-probabilities). Same contract as above.
Status nll_loss_forward(const Tensor& log_prob, const Tensor& labels, const Tensor* weight,
                        const LossOptions& options, Tensor& loss);

}  // namespace onnx_mini
