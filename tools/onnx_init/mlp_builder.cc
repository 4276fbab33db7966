#include "onnx_init/mlp_builder.h"

#include <cmath>

#include "onnx_init/onnx_graph_builder.h"

namespace onnx_mini::init {

namespace {
// protobuf refuses to serialize a message of 2 GiB or more; stay well clear of it.
constexpr int64_t kMaxParameterBytes = int64_t{1} << 30;
}  // namespace

Result<LayerType> parse_layer_type(std::string_view text) {
  if (text == "gemm") return LayerType::kGemm;
  if (text == "matmul") return LayerType::kMatMul;
  return usage_error("unknown layer type '" + std::string(text) + "' (choose gemm or matmul)");
}

std::string to_string(LayerType type) { return type == LayerType::kGemm ? "gemm" : "matmul"; }

InitScheme torch_linear_weight_default() {
  InitScheme scheme;
  scheme.kind = SchemeKind::kKaimingUniform;
  scheme.a = std::sqrt(5.0);
  scheme.mode = FanMode::kFanIn;
  scheme.nonlinearity = "leaky_relu";
  return scheme;
}

Status validate_mlp_options(const MlpOptions& o) {
  if (o.layers.size() < 2) {
    return usage_error("--layers needs at least two widths (input and output), e.g. 784,128,10");
  }
  int64_t parameter_bytes = 0;
  for (size_t i = 0; i < o.layers.size(); ++i) {
    if (o.layers[i] <= 0) {
      return usage_error("--layers: width " + std::to_string(i) + " is " + std::to_string(o.layers[i]) +
                         "; every layer needs at least one unit");
    }
    if (i == 0) continue;
    const auto weights = checked_mul(o.layers[i - 1], o.layers[i]);
    const auto layer_bytes = weights ? checked_mul(*weights + o.layers[i], 4) : std::nullopt;
    const auto total = layer_bytes ? checked_add(parameter_bytes, *layer_bytes) : std::nullopt;
    if (!total || *total > kMaxParameterBytes) {
      return usage_error("--layers: the parameters would exceed 1 GiB; ONNX files are limited to 2 GiB");
    }
    parameter_bytes = *total;
  }
  if (o.opset < kMinOpset || o.opset > kMaxOpset) {
    return usage_error("--opset " + std::to_string(o.opset) + " is outside the supported range " +
                       std::to_string(kMinOpset) + ".." + std::to_string(kMaxOpset));
  }
  if (o.bias_init.kind == BiasInit::Kind::kKeep) {
    return usage_error("--bias keep only applies to reinit: a new model has no biases to keep");
  }
  if (o.bias_init.kind == BiasInit::Kind::kScheme && needs_fans(o.bias_init.scheme)) {
    // PyTorch refuses fans of a 1-D tensor (xavier_/kaiming_ on a bias); so do we.
    return torch_fans(Shape{o.layers.back()}).status().with_context("--bias " + to_string(o.bias_init) + ": ");
  }
  OM_RETURN_IF_ERROR(check_activation_opset(o.activation, o.opset));
  OM_RETURN_IF_ERROR(check_head_and_loss(o.head, o.loss, o.opset));
  return Status::ok();
}

namespace {

void write_recipe(onnx::ModelProto& model, const MlpOptions& o) {
  std::string widths;
  for (int64_t w : o.layers) widths += (widths.empty() ? "" : ",") + std::to_string(w);
  set_metadata(model, "onnx_init.tool", kToolVersion);
  set_metadata(model, "onnx_init.command", o.command_line);
  set_metadata(model, "onnx_init.architecture",
               "mlp layers=" + widths + " layer_type=" + to_string(o.layer_type) + " activation=" +
                   to_string(o.activation) + " head=" + to_string(o.head) + " loss=" + to_string(o.loss) +
                   (o.loss == Loss::kNone ? "" : " reduction=" + to_string(o.reduction)));
  set_metadata(model, "onnx_init.weight_init", to_string(o.weight_init));
  set_metadata(model, "onnx_init.bias_init", to_string(o.bias_init));
  set_metadata(model, "onnx_init.seed", std::to_string(o.seed));
  set_metadata(model, "onnx_init.rng", "pcg32 xsh-rr, polar normal (tools/onnx_init/rng.h)");
}

// Samples one layer's weight and bias, in that order, from the shared generator.
Status add_layer_parameters(GraphBuilder& g, const MlpOptions& o, const std::string& layer, int64_t in,
                            int64_t out, Pcg32& rng) {
  const WeightLayout layout = o.layer_type == LayerType::kGemm ? WeightLayout::kOutIn : WeightLayout::kInOut;
  const Shape weight_shape = layout == WeightLayout::kOutIn ? Shape{out, in} : Shape{in, out};
  const Fans fans{in, out};

  std::vector<float> weight(static_cast<size_t>(in * out));
  OM_ASSIGN_OR_RETURN(const Distribution weight_dist, resolve(o.weight_init, fans));
  fill(weight_dist, rng, weight);
  g.add_float_initializer(layer + ".weight", weight_shape, weight);

  std::vector<float> bias(static_cast<size_t>(out));
  Distribution bias_dist = torch_default_bias(fans.fan_in);
  if (o.bias_init.kind == BiasInit::Kind::kScheme) {
    // validate_mlp_options refused fan-based bias schemes: a bias is 1-D.
    OM_ASSIGN_OR_RETURN(bias_dist, resolve(o.bias_init.scheme, std::nullopt));
  }
  fill(bias_dist, rng, bias);
  g.add_float_initializer(layer + ".bias", Shape{out}, bias);
  return Status::ok();
}

// Emits x @ W^T + b (or x @ W + b) and returns the value holding the result.
std::string emit_linear(GraphBuilder& g, LayerType type, const std::string& layer, const std::string& x,
                        const std::string& out) {
  const std::string w = layer + ".weight", b = layer + ".bias";
  if (type == LayerType::kGemm) {
    onnx::NodeProto& node = g.add_node("Gemm", layer, {x, w, b}, {out});
    set_float_attr(node, "alpha", 1.0f);
    set_float_attr(node, "beta", 1.0f);
    set_int_attr(node, "transB", 1);
    return out;
  }
  const std::string product = layer + "/MatMul";
  g.add_node("MatMul", product, {x, w}, {product});
  g.add_node("Add", layer + "/Add", {product, b}, {out});
  return out;
}

}  // namespace

Result<onnx::ModelProto> build_mlp(const MlpOptions& o) {
  OM_RETURN_IF_ERROR(validate_mlp_options(o));

  onnx::ModelProto model;
  model.set_ir_version(ir_version_for_opset(o.opset));
  model.set_producer_name("onnx-mini onnx-init");
  model.set_producer_version(ONNX_MINI_VERSION);
  onnx::OperatorSetIdProto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(o.opset);
  write_recipe(model, o);

  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("mlp");
  GraphBuilder g(graph, o.opset);
  g.add_input(kInputName, onnx::TensorProto::FLOAT, {kBatchDim, o.layers.front()});

  Pcg32 rng(o.seed);
  std::string x = kInputName;
  const size_t num_layers = o.layers.size() - 1;
  for (size_t i = 0; i < num_layers; ++i) {
    const std::string layer = "fc" + std::to_string(i + 1);
    const bool last = i + 1 == num_layers;
    OM_RETURN_IF_ERROR(add_layer_parameters(g, o, layer, o.layers[i], o.layers[i + 1], rng)
                           .with_context(layer + ": "));
    const std::string out = !last ? layer : (o.head == Head::kNone ? kOutputName : "logits");
    x = emit_linear(g, o.layer_type, layer, x, out);
    if (!last) x = emit_activation(g, o.activation, x, layer);
  }
  emit_head(g, o.head, x, kOutputName);
  g.add_output(kOutputName, onnx::TensorProto::FLOAT, {kBatchDim, o.layers.back()});
  emit_loss(g, o.loss, o.reduction, kOutputName, kBatchDim, o.layers.back());
  return model;
}

}  // namespace onnx_mini::init
