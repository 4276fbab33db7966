#include "onnx_init/loss_builder.h"

#include <utility>

namespace onnx_mini::init {

namespace {

template <typename Enum, size_t N>
Result<Enum> parse_choice(std::string_view text, const std::pair<const char*, Enum> (&table)[N],
                          const char* what) {
  std::string known;
  for (const auto& [name, value] : table) {
    if (text == name) return value;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  return usage_error(std::string("unknown ") + what + " '" + std::string(text) + "' (choose " + known + ")");
}

template <typename Enum, size_t N>
std::string name_of(Enum value, const std::pair<const char*, Enum> (&table)[N]) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

constexpr std::pair<const char*, Head> kHeads[] = {
    {"none", Head::kNone}, {"softmax", Head::kSoftmax}, {"log_softmax", Head::kLogSoftmax}, {"sigmoid", Head::kSigmoid}};
constexpr std::pair<const char*, Loss> kLosses[] = {
    {"none", Loss::kNone}, {"cross_entropy", Loss::kCrossEntropy}, {"nll", Loss::kNll}, {"mse", Loss::kMse},
    {"l1", Loss::kL1},     {"bce", Loss::kBce},                    {"bce_with_logits", Loss::kBceWithLogits}};
constexpr std::pair<const char*, Reduction> kReductions[] = {
    {"mean", Reduction::kMean}, {"sum", Reduction::kSum}, {"none", Reduction::kNone}};

}  // namespace

Result<Head> parse_head(std::string_view text) { return parse_choice(text, kHeads, "head"); }
Result<Loss> parse_loss(std::string_view text) { return parse_choice(text, kLosses, "loss"); }
Result<Reduction> parse_reduction(std::string_view text) { return parse_choice(text, kReductions, "reduction"); }
std::string to_string(Head head) { return name_of(head, kHeads); }
std::string to_string(Loss loss) { return name_of(loss, kLosses); }
std::string to_string(Reduction reduction) { return name_of(reduction, kReductions); }

Status check_head_and_loss(Head head, Loss loss, int opset) {
  auto need_head = [&](Head wanted, const char* why) -> Status {
    if (head == wanted) return Status::ok();
    return usage_error("--loss " + to_string(loss) + " " + why + ": use --head " + to_string(wanted) +
                       " (got --head " + to_string(head) + ")");
  };
  switch (loss) {
    case Loss::kNone:
    case Loss::kMse:
    case Loss::kL1:
      return Status::ok();
    case Loss::kCrossEntropy:
    case Loss::kNll:
      // SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss appeared in opset 12.
      if (opset < 12) return usage_error("--loss " + to_string(loss) + " needs --opset >= 12");
      return loss == Loss::kCrossEntropy ? need_head(Head::kNone, "takes raw scores (logits)")
                                         : need_head(Head::kLogSoftmax, "takes log-probabilities");
    case Loss::kBce:
      return need_head(Head::kSigmoid, "takes probabilities");
    case Loss::kBceWithLogits:
      return need_head(Head::kNone, "takes raw scores (logits)");
  }
  return internal_error("unhandled loss");
}

void emit_head(GraphBuilder& g, Head head, const std::string& scores, const std::string& output) {
  switch (head) {
    case Head::kNone:
      return;
    case Head::kSigmoid:
      g.add_node("Sigmoid", "head/sigmoid", {scores}, {output});
      return;
    case Head::kSoftmax:
    case Head::kLogSoftmax: {
      const bool log = head == Head::kLogSoftmax;
      onnx::NodeProto& node = g.add_node(log ? "LogSoftmax" : "Softmax", log ? "head/log_softmax" : "head/softmax",
                                         {scores}, {output});
      // Before opset 13 the input is coerced to 2-D at `axis` (default 1); from 13 the
      // op normalizes along one axis (default -1). For our [batch, classes] input both
      // mean "over classes"; spell the axis out so readers need not know the history.
      set_int_attr(node, "axis", g.opset() < 13 ? 1 : -1);
      return;
    }
  }
}

namespace {

// Reduces the per-element loss `elements` into the `loss` output.
void emit_reduction(GraphBuilder& g, Reduction reduction, const std::string& elements) {
  if (reduction == Reduction::kNone) {
    g.add_node("Identity", "loss/identity", {elements}, {kLossOutput});
    return;
  }
  // No axes at all means "every axis" for ReduceMean and ReduceSum in every opset we
  // emit (7..17), which sidesteps ReduceSum-13 moving `axes` from attribute to input.
  const bool mean = reduction == Reduction::kMean;
  onnx::NodeProto& node =
      g.add_node(mean ? "ReduceMean" : "ReduceSum", mean ? "loss/mean" : "loss/sum", {elements}, {kLossOutput});
  set_int_attr(node, "keepdims", 0);
}

// PyTorch's BCELoss: -(y*log(p) + (1-y)*log(1-p)) with each log clamped to >= -100.
std::string emit_bce_elements(GraphBuilder& g, const std::string& p, const std::string& y) {
  const std::string one = g.add_scalar_constant("loss/one", 1.0f);
  auto clamped_log = [&](const std::string& x, const std::string& scope) {
    const std::string log = scope + "/Log", clip = scope + "/Clip";
    g.add_node("Log", log, {x}, {log});
    if (g.opset() < 11) {
      set_float_attr(g.add_node("Clip", clip, {log}, {clip}), "min", -100.0f);  // Clip-6: attributes
    } else {
      const std::string min = g.add_scalar_constant(scope + "/min", -100.0f);  // Clip-11: inputs
      g.add_node("Clip", clip, {log, min}, {clip});
    }
    return clip;
  };
  const std::string log_p = clamped_log(p, "loss/log_p");
  const std::string one_minus_p = "loss/one_minus_p", one_minus_y = "loss/one_minus_y";
  g.add_node("Sub", one_minus_p, {one, p}, {one_minus_p});
  g.add_node("Sub", one_minus_y, {one, y}, {one_minus_y});
  const std::string log_1mp = clamped_log(one_minus_p, "loss/log_one_minus_p");
  g.add_node("Mul", "loss/pos", {y, log_p}, {"loss/pos"});
  g.add_node("Mul", "loss/neg", {one_minus_y, log_1mp}, {"loss/neg"});
  g.add_node("Add", "loss/sum_terms", {"loss/pos", "loss/neg"}, {"loss/sum_terms"});
  g.add_node("Neg", "loss/elements", {"loss/sum_terms"}, {"loss/elements"});
  return "loss/elements";
}

// PyTorch's BCEWithLogitsLoss in its overflow-free form:
// max(x, 0) - x*y + log(1 + exp(-|x|)), where softplus(-|x|) never sees a large input.
std::string emit_bce_with_logits_elements(GraphBuilder& g, const std::string& x, const std::string& y) {
  g.add_node("Relu", "loss/relu", {x}, {"loss/relu"});
  g.add_node("Mul", "loss/xy", {x, y}, {"loss/xy"});
  g.add_node("Abs", "loss/abs", {x}, {"loss/abs"});
  g.add_node("Neg", "loss/neg_abs", {"loss/abs"}, {"loss/neg_abs"});
  g.add_node("Softplus", "loss/softplus", {"loss/neg_abs"}, {"loss/softplus"});
  g.add_node("Sub", "loss/relu_minus_xy", {"loss/relu", "loss/xy"}, {"loss/relu_minus_xy"});
  g.add_node("Add", "loss/elements", {"loss/relu_minus_xy", "loss/softplus"}, {"loss/elements"});
  return "loss/elements";
}

}  // namespace

void emit_loss(GraphBuilder& g, Loss loss, Reduction reduction, const std::string& prediction,
               const std::string& batch_dim, int64_t classes) {
  if (loss == Loss::kNone) return;
  const bool class_indices = loss == Loss::kCrossEntropy || loss == Loss::kNll;
  if (class_indices) {
    g.add_input(kLabelsInput, onnx::TensorProto::INT64, {batch_dim});
    onnx::NodeProto& node =
        g.add_node(loss == Loss::kCrossEntropy ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss",
                   loss == Loss::kCrossEntropy ? "loss/cross_entropy" : "loss/nll", {prediction, kLabelsInput},
                   {kLossOutput});
    set_string_attr(node, "reduction", to_string(reduction));
    const std::vector<Dim> dims = reduction == Reduction::kNone ? std::vector<Dim>{batch_dim} : std::vector<Dim>{};
    g.add_output(kLossOutput, onnx::TensorProto::FLOAT, dims);
    return;
  }

  g.add_input(kTargetsInput, onnx::TensorProto::FLOAT, {batch_dim, classes});
  std::string elements;
  switch (loss) {
    case Loss::kMse:
      g.add_node("Sub", "loss/diff", {prediction, kTargetsInput}, {"loss/diff"});
      g.add_node("Mul", "loss/elements", {"loss/diff", "loss/diff"}, {"loss/elements"});
      elements = "loss/elements";
      break;
    case Loss::kL1:
      g.add_node("Sub", "loss/diff", {prediction, kTargetsInput}, {"loss/diff"});
      g.add_node("Abs", "loss/elements", {"loss/diff"}, {"loss/elements"});
      elements = "loss/elements";
      break;
    case Loss::kBce:
      elements = emit_bce_elements(g, prediction, kTargetsInput);
      break;
    case Loss::kBceWithLogits:
      elements = emit_bce_with_logits_elements(g, prediction, kTargetsInput);
      break;
    default:
      break;
  }
  emit_reduction(g, reduction, elements);
  const std::vector<Dim> dims =
      reduction == Reduction::kNone ? std::vector<Dim>{batch_dim, classes} : std::vector<Dim>{};
  g.add_output(kLossOutput, onnx::TensorProto::FLOAT, dims);
}

}  // namespace onnx_mini::init
