// The graphs `onnx-init mlp` builds: names, layouts, opset-dependent forms, recipe.
#include "onnx_init/mlp_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "onnx_init/onnx_graph_builder.h"

namespace onnx_mini::init {
namespace {

MlpOptions options(std::vector<int64_t> layers) {
  MlpOptions o;
  o.layers = std::move(layers);
  o.activation = parse_activation("relu").value();
  return o;
}

onnx::ModelProto build_ok(const MlpOptions& o) {
  auto m = build_mlp(o);
  EXPECT_TRUE(m.is_ok()) << m.status().message();
  return m.is_ok() ? m.value() : onnx::ModelProto{};
}

std::map<std::string, const onnx::TensorProto*> initializers(const onnx::ModelProto& m) {
  std::map<std::string, const onnx::TensorProto*> out;
  for (const auto& t : m.graph().initializer()) out[t.name()] = &t;
  return out;
}

std::vector<int64_t> dims(const onnx::TensorProto& t) { return {t.dims().begin(), t.dims().end()}; }

std::vector<std::string> op_types(const onnx::ModelProto& m) {
  std::vector<std::string> ops;
  for (const auto& n : m.graph().node()) ops.push_back(n.op_type());
  return ops;
}

const onnx::NodeProto* find_node(const onnx::ModelProto& m, const std::string& op) {
  for (const auto& n : m.graph().node()) {
    if (n.op_type() == op) return &n;
  }
  return nullptr;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& e : m.metadata_props()) {
    if (e.key() == key) return e.value();
  }
  return "<absent>";
}

TEST(MlpBuilder, GemmLayersUseTorchNamesAndOutInWeights) {
  const auto m = build_ok(options({784, 256, 10}));
  EXPECT_EQ(m.opset_import(0).version(), 13);
  const auto inits = initializers(m);
  ASSERT_EQ(inits.size(), 4u);
  EXPECT_EQ(dims(*inits.at("fc1.weight")), (std::vector<int64_t>{256, 784}));
  EXPECT_EQ(dims(*inits.at("fc1.bias")), (std::vector<int64_t>{256}));
  EXPECT_EQ(dims(*inits.at("fc2.weight")), (std::vector<int64_t>{10, 256}));
  EXPECT_EQ(op_types(m), (std::vector<std::string>{"Gemm", "Relu", "Gemm"}));
  const auto* gemm = find_node(m, "Gemm");
  ASSERT_NE(find_attr(*gemm, "transB"), nullptr);
  EXPECT_EQ(find_attr(*gemm, "transB")->i(), 1);
  // raw little-endian floats, 4 bytes each
  EXPECT_EQ(inits.at("fc1.weight")->raw_data().size(), 256u * 784 * 4);
}

TEST(MlpBuilder, BatchDimIsSymbolic) {
  const auto m = build_ok(options({4, 3}));
  const auto& in = m.graph().input(0).type().tensor_type().shape();
  EXPECT_EQ(in.dim(0).dim_param(), "batch");
  EXPECT_EQ(in.dim(1).dim_value(), 4);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().shape().dim(0).dim_param(), "batch");
}

TEST(MlpBuilder, MatMulLayersUseInOutWeightsAndAdd) {
  auto o = options({784, 256, 10});
  o.layer_type = LayerType::kMatMul;
  const auto m = build_ok(o);
  EXPECT_EQ(dims(*initializers(m).at("fc1.weight")), (std::vector<int64_t>{784, 256}));
  EXPECT_EQ(op_types(m), (std::vector<std::string>{"MatMul", "Add", "Relu", "MatMul", "Add"}));
}

TEST(MlpBuilder, MatMulAndGemmDrawTheSameDistributionFromTheSameFans) {
  // kaiming_uniform fan_in=784 bound: the MatMul layout must not read fans from axis 1.
  auto o = options({784, 64});
  o.layer_type = LayerType::kMatMul;
  o.weight_init = parse_init_scheme("kaiming_uniform:0,fan_in,relu").value();
  const auto m = build_ok(o);
  const auto& raw = initializers(m).at("fc1.weight")->raw_data();
  std::vector<float> w(raw.size() / 4);
  std::memcpy(w.data(), raw.data(), raw.size());  // the test host is little-endian
  float max_abs = 0;
  for (float v : w) max_abs = std::max(max_abs, std::fabs(v));
  const double bound = std::sqrt(6.0 / 784);
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.99 * bound);  // fan_in 64 would allow 3.5x larger values
}

TEST(MlpBuilder, SoftmaxAxisFollowsTheOpset) {
  auto o = options({8, 4});
  o.head = Head::kSoftmax;
  o.opset = 11;
  EXPECT_EQ(find_attr(*find_node(build_ok(o), "Softmax"), "axis")->i(), 1);  // coerce-to-2D semantics
  o.opset = 13;
  EXPECT_EQ(find_attr(*find_node(build_ok(o), "Softmax"), "axis")->i(), -1);
}

TEST(MlpBuilder, BceClipUsesAttributesBeforeOpset11AndInputsFrom11) {
  auto o = options({8, 4});
  o.head = Head::kSigmoid;
  o.loss = Loss::kBce;
  o.opset = 10;
  const auto old_model = build_ok(o);
  const auto* clip = find_node(old_model, "Clip");
  EXPECT_EQ(clip->input_size(), 1);
  EXPECT_FLOAT_EQ(find_attr(*clip, "min")->f(), -100.0f);
  o.opset = 13;
  const auto new_model = build_ok(o);
  clip = find_node(new_model, "Clip");
  EXPECT_EQ(clip->input_size(), 2);
  EXPECT_EQ(find_attr(*clip, "min"), nullptr);
}

TEST(MlpBuilder, LossAddsLabelsOrTargetsAndAScalarLoss) {
  auto o = options({8, 4});
  o.loss = Loss::kCrossEntropy;
  auto m = build_ok(o);
  ASSERT_EQ(m.graph().input_size(), 2);
  EXPECT_EQ(m.graph().input(1).name(), "labels");
  EXPECT_EQ(m.graph().input(1).type().tensor_type().elem_type(), onnx::TensorProto::INT64);
  ASSERT_EQ(m.graph().output_size(), 2);
  EXPECT_EQ(m.graph().output(1).name(), "loss");
  EXPECT_EQ(m.graph().output(1).type().tensor_type().shape().dim_size(), 0);
  EXPECT_NE(find_node(m, "SoftmaxCrossEntropyLoss"), nullptr);

  o.loss = Loss::kMse;
  o.reduction = Reduction::kNone;
  m = build_ok(o);
  EXPECT_EQ(m.graph().input(1).name(), "targets");
  EXPECT_EQ(m.graph().output(1).type().tensor_type().shape().dim_size(), 2);
}

TEST(MlpBuilder, NewerActivationsAreBuiltFromOlderOpsBelowTheirOpset) {
  auto o = options({8, 8, 4});
  o.activation = parse_activation("hardswish").value();
  o.opset = 13;
  EXPECT_EQ(op_types(build_ok(o)), (std::vector<std::string>{"Gemm", "HardSigmoid", "Mul", "Gemm"}));
  o.opset = 14;
  EXPECT_EQ(op_types(build_ok(o)), (std::vector<std::string>{"Gemm", "HardSwish", "Gemm"}));
  o.activation = parse_activation("gelu").value();
  const auto gelu_ops = op_types(build_ok(o));
  EXPECT_NE(std::find(gelu_ops.begin(), gelu_ops.end(), "Erf"), gelu_ops.end());
  o.opset = 8;
  EXPECT_EQ(build_mlp(o).status().code(), ErrorCode::kUsage);  // Erf needs opset 9
}

TEST(MlpBuilder, RefusesBadCombinationsWithUsageErrors) {
  auto expect_usage = [](MlpOptions o, const char* why) {
    auto m = build_mlp(o);
    ASSERT_FALSE(m.is_ok()) << why;
    EXPECT_EQ(m.status().code(), ErrorCode::kUsage) << why;
  };
  expect_usage(options({784}), "one width");
  expect_usage(options({784, 0, 10}), "zero-width layer");
  expect_usage(options({784, -3}), "negative width");
  auto o = options({8, 4});
  o.opset = 6;
  expect_usage(o, "opset too old");
  o = options({8, 4});
  o.loss = Loss::kNll;  // head none: not log-probabilities
  expect_usage(o, "nll without log_softmax");
  o.head = Head::kSoftmax;
  o.loss = Loss::kCrossEntropy;
  expect_usage(o, "cross_entropy after softmax");
  o.head = Head::kNone;
  o.opset = 11;
  expect_usage(o, "cross_entropy below opset 12");
  o = options({8, 4});
  o.bias_init = parse_bias_init("xavier_normal").value();
  expect_usage(o, "fan-based scheme on a 1-D bias");
  o = options({8, 4});
  o.activation = parse_activation("celu").value();
  o.opset = 11;
  expect_usage(o, "celu below opset 12");
  o = options({100000, 100000});
  expect_usage(o, "more than 1 GiB of parameters");
}

TEST(MlpBuilder, RecipeIsInMetadata) {
  auto o = options({8, 4});
  o.weight_init = parse_init_scheme("kaiming_normal:0,fan_out,relu").value();
  o.seed = 99;
  o.command_line = "onnx-init mlp --layers 8,4";
  const auto m = build_ok(o);
  EXPECT_EQ(metadata(m, "onnx_init.weight_init"), "kaiming_normal:0,fan_out,relu");
  EXPECT_EQ(metadata(m, "onnx_init.bias_init"), "default");
  EXPECT_EQ(metadata(m, "onnx_init.seed"), "99");
  EXPECT_EQ(metadata(m, "onnx_init.tool"), std::string("onnx-mini ") + ONNX_MINI_VERSION);
  EXPECT_EQ(metadata(m, "onnx_init.command"), "onnx-init mlp --layers 8,4");
}

TEST(MlpBuilder, SameSeedSameBytesOtherSeedOtherBytes) {
  auto o = options({32, 16, 4});
  o.weight_init = parse_init_scheme("kaiming_normal").value();
  o.seed = 5;
  const std::string a = build_ok(o).SerializeAsString();
  const std::string b = build_ok(o).SerializeAsString();
  o.seed = 6;
  const std::string c = build_ok(o).SerializeAsString();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(MlpBuilder, IrVersionMatchesOpsetButNeverBelowFour) {
  EXPECT_EQ(ir_version_for_opset(7), 4);
  EXPECT_EQ(ir_version_for_opset(11), 6);
  EXPECT_EQ(ir_version_for_opset(13), 7);
  EXPECT_EQ(ir_version_for_opset(17), 8);
}

}  // namespace
}  // namespace onnx_mini::init
