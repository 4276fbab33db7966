// reinit: which tensors change and with which fans, read from how nodes consume them.
// The uniform kaiming bound sqrt(6/fan_in) is exact, so the largest |w| tells which
// fan_in was used.
#include "onnx_init/reinit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "onnx_init/mlp_builder.h"
#include "onnx_init/onnx_graph_builder.h"

namespace onnx_mini::init {
namespace {

std::vector<float> values_of(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer()) {
    if (t.name() != name) continue;
    std::vector<float> v(t.raw_data().size() / 4);
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());  // little-endian test host
    return v;
  }
  ADD_FAILURE() << "no initializer " << name;
  return {};
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

// Expects every |w| <= bound and the largest within 2% of it (for n >= a few hundred
// samples the largest of n uniforms misses the bound by more than 2% with probability 0.98^n).
void expect_uniform_bound(const std::vector<float>& v, double bound) {
  ASSERT_GE(v.size(), 800u);
  EXPECT_LE(max_abs(v), bound);
  EXPECT_GT(max_abs(v), 0.98 * bound);
}

// A graph with one layer-like node consuming "w" (and optionally "b").
onnx::ModelProto one_layer(const std::string& op, const Shape& w_shape, int64_t trans_b, bool bias,
                           int64_t bias_size = 0) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  GraphBuilder g(m.mutable_graph(), 13);
  std::vector<float> zeros(static_cast<size_t>(num_elements(w_shape)), 0.0f);
  g.add_float_initializer("w", w_shape, zeros);
  std::vector<std::string> inputs = {"x", "w"};
  if (bias) {
    std::vector<float> b(static_cast<size_t>(bias_size), 0.0f);
    g.add_float_initializer("b", {bias_size}, b);
    inputs.push_back("b");
  }
  auto& node = g.add_node(op, "layer", inputs, {"y"});
  if (op == "Gemm") set_int_attr(node, "transB", trans_b);
  return m;
}

ReinitOptions kaiming_uniform_relu() {
  ReinitOptions o;
  o.weight_init = parse_init_scheme("kaiming_uniform:0,fan_in,relu").value();
  return o;
}

TEST(Reinit, GemmTransBOneIsOutIn) {
  auto m = one_layer("Gemm", {64, 900}, 1, true, 64);
  ASSERT_TRUE(reinit_model(m, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(m, "w"), std::sqrt(6.0 / 900));
  // Bias default: nn.Linear's 1/sqrt(fan_in) with the weight's fan_in.
  EXPECT_LE(max_abs(values_of(m, "b")), 1 / std::sqrt(900.0));
  EXPECT_GT(max_abs(values_of(m, "b")), 0.0f);
}

TEST(Reinit, GemmTransBZeroIsInOut) {
  auto m = one_layer("Gemm", {900, 64}, 0, true, 64);
  ASSERT_TRUE(reinit_model(m, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(m, "w"), std::sqrt(6.0 / 900));
}

TEST(Reinit, MatMulRightOperandIsInOut) {
  auto m = one_layer("MatMul", {900, 64}, 0, false);
  ASSERT_TRUE(reinit_model(m, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(m, "w"), std::sqrt(6.0 / 900));
}

TEST(Reinit, ConvUsesTheReceptiveField) {
  auto m = one_layer("Conv", {16, 8, 3, 3}, 0, true, 16);
  ASSERT_TRUE(reinit_model(m, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(m, "w"), std::sqrt(6.0 / (8 * 9)));
  EXPECT_LE(max_abs(values_of(m, "b")), 1 / std::sqrt(72.0));
}

// onnx-mini's fused ops, in a model saved with onnx-run --save-optimized, hold
// their weights as the ONNX op they extend: FusedConv as Conv, FusedGemm as Gemm.
TEST(Reinit, FusedOpsOfAnOptimizedModelAreLayers) {
  auto conv = one_layer("FusedConv", {16, 8, 3, 3}, 0, true, 16);
  conv.mutable_graph()->mutable_node(0)->set_domain("com.onnx_mini");
  ASSERT_TRUE(reinit_model(conv, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(conv, "w"), std::sqrt(6.0 / (8 * 9)));
  EXPECT_LE(max_abs(values_of(conv, "b")), 1 / std::sqrt(72.0));
  EXPECT_GT(max_abs(values_of(conv, "b")), 0.0f);
  auto gemm = one_layer("FusedGemm", {64, 900}, 0, true, 64);
  auto* node = gemm.mutable_graph()->mutable_node(0);
  node->set_domain("com.onnx_mini");
  set_int_attr(*node, "transB", 1);
  ASSERT_TRUE(reinit_model(gemm, kaiming_uniform_relu()).is_ok());
  expect_uniform_bound(values_of(gemm, "w"), std::sqrt(6.0 / 900));
  // The same op names in another domain are not ours: nothing to re-initialize.
  auto other = one_layer("FusedConv", {16, 8, 3, 3}, 0, true, 16);
  other.mutable_graph()->mutable_node(0)->set_domain("com.example");
  EXPECT_FALSE(reinit_model(other, kaiming_uniform_relu()).is_ok());
}

TEST(Reinit, MatMulAddBiasIsFoundThroughTheProducer) {
  MlpOptions o;
  o.layers = {900, 64};
  o.layer_type = LayerType::kMatMul;
  o.weight_init = parse_init_scheme("zeros").value();
  o.bias_init = parse_bias_init("zeros").value();
  auto m = build_mlp(o).value();
  ReinitOptions r = kaiming_uniform_relu();
  auto report = reinit_model(m, r);
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  EXPECT_EQ(report.value().changed.size(), 2u);
  expect_uniform_bound(values_of(m, "fc1.weight"), std::sqrt(6.0 / 900));
  EXPECT_LE(max_abs(values_of(m, "fc1.bias")), 1 / std::sqrt(900.0));
  EXPECT_GT(max_abs(values_of(m, "fc1.bias")), 0.0f);
}

TEST(Reinit, MatchSelectsByNameAndBiasPolicyApplies) {
  MlpOptions o;
  o.layers = {30, 20, 10};
  o.weight_init = parse_init_scheme("zeros").value();
  o.bias_init = parse_bias_init("zeros").value();
  auto m = build_mlp(o).value();
  ReinitOptions r;
  r.weight_init = parse_init_scheme("ones").value();
  r.bias_init = parse_bias_init("constant:0.5").value();
  r.match = "^fc2\\.";
  ASSERT_TRUE(reinit_model(m, r).is_ok());
  EXPECT_EQ(values_of(m, "fc1.weight")[0], 0.0f);
  EXPECT_EQ(values_of(m, "fc1.bias")[0], 0.0f);
  EXPECT_EQ(values_of(m, "fc2.weight")[0], 1.0f);
  EXPECT_EQ(values_of(m, "fc2.bias")[0], 0.5f);

  r.match = "bias";
  r.bias_init = parse_bias_init("keep").value();
  auto nothing = reinit_model(m, r);
  ASSERT_FALSE(nothing.is_ok());  // only kept biases selected: nothing to do
  EXPECT_EQ(nothing.status().code(), ErrorCode::kUsage);
}

TEST(Reinit, ErrorsLeaveTheModelUntouchedAndAreUsageErrors) {
  auto m = one_layer("Gemm", {4, 5}, 1, true, 4);
  const std::string before = m.SerializeAsString();
  auto expect_usage = [&](ReinitOptions r, const char* why) {
    auto result = reinit_model(m, r);
    ASSERT_FALSE(result.is_ok()) << why;
    EXPECT_EQ(result.status().code(), ErrorCode::kUsage) << why;
    EXPECT_EQ(m.SerializeAsString(), before) << why;
  };
  ReinitOptions bad_regex = kaiming_uniform_relu();
  bad_regex.match = "fc[";
  expect_usage(bad_regex, "bad regex");
  ReinitOptions no_match = kaiming_uniform_relu();
  no_match.match = "nothing-has-this-name";
  expect_usage(no_match, "regex matches nothing");
  ReinitOptions fan_bias = kaiming_uniform_relu();
  fan_bias.bias_init = parse_bias_init("kaiming_normal").value();
  expect_usage(fan_bias, "fan on a 1-D bias");
}

TEST(Reinit, InconsistentLayoutsAreRefused) {
  auto m = one_layer("Gemm", {40, 50}, 1, false);
  GraphBuilder g(m.mutable_graph(), 13);
  g.add_node("MatMul", "other", {"x2", "w"}, {"y2"});  // same tensor as [in, out]
  auto r = reinit_model(m, kaiming_uniform_relu());
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("different layouts"), std::string::npos) << r.status().message();
}

TEST(Reinit, RecordsTheRecipe) {
  auto m = one_layer("Gemm", {4, 5}, 1, true, 4);
  ReinitOptions r = kaiming_uniform_relu();
  r.seed = 17;
  ASSERT_TRUE(reinit_model(m, r).is_ok());
  std::map<std::string, std::string> meta;
  for (const auto& e : m.metadata_props()) meta[e.key()] = e.value();
  EXPECT_EQ(meta["onnx_init.seed"], "17");
  EXPECT_EQ(meta["onnx_init.weight_init"], "kaiming_uniform:0,fan_in,relu");
  EXPECT_EQ(meta["onnx_init.reinitialized"], "w,b");
}

}  // namespace
}  // namespace onnx_mini::init
