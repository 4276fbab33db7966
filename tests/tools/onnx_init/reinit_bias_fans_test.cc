// reinit --bias SCHEME where the scheme needs fans: torch.nn.init takes them from
// the tensor's own shape, so a 2-D bias (Gemm's C as [1, N]) is re-drawn and a
// 1-D one is refused. The 2-D case used to return an OK Status where a report
// belonged: onnx-init exited 0 without writing its output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "onnx_init/onnx_graph_builder.h"
#include "onnx_init/reinit.h"

namespace onnx_mini::init {
namespace {

constexpr int64_t kOut = 800;

// x[2, 3] -> Gemm(w [kOut, 3], transB=1, C = b) with b of `bias_shape`.
onnx::ModelProto gemm_with_bias(const Shape& bias_shape) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  GraphBuilder g(m.mutable_graph(), 13);
  g.add_float_initializer("w", {kOut, 3}, std::vector<float>(kOut * 3, 0.0f));
  g.add_float_initializer("b", bias_shape, std::vector<float>(static_cast<size_t>(kOut), 0.0f));
  auto& node = g.add_node("Gemm", "fc", {"x", "w", "b"}, {"y"});
  set_int_attr(node, "transB", 1);
  return m;
}

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

ReinitOptions bias_scheme(const char* scheme) {
  ReinitOptions o;
  o.weight_init = parse_init_scheme("kaiming_uniform:0,fan_in,relu").value();
  o.bias_init = parse_bias_init(scheme).value();
  return o;
}

TEST(ReinitBiasFans, TwoDimensionalBiasUsesItsOwnFans) {
  onnx::ModelProto m = gemm_with_bias({1, kOut});
  auto report = reinit_model(m, bias_scheme("kaiming_uniform:0,fan_in,relu"));
  ASSERT_TRUE(report.is_ok()) << report.status().message();
  ASSERT_EQ(report->changed.size(), 2u);
  EXPECT_NE(report->changed[1].find("b [1, 800]: bias of"), std::string::npos) << report->changed[1];
  // torch.nn.init on a [1, 800] tensor: fan_in 800, so the kaiming bound is sqrt(6 / 800).
  // With 800 draws the largest |b| misses the last 2% of the bound with probability
  // 0.98^800 < 1e-7 (and the seed is fixed).
  const std::vector<float> b = values_of(m, "b");
  ASSERT_EQ(b.size(), static_cast<size_t>(kOut));
  float largest = 0;
  for (float v : b) largest = std::max(largest, std::fabs(v));
  const double bound = std::sqrt(6.0 / kOut);
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.98 * bound);
}

TEST(ReinitBiasFans, OneDimensionalBiasHasNoFans) {
  onnx::ModelProto m = gemm_with_bias({kOut});
  const std::string before = m.SerializeAsString();
  auto report = reinit_model(m, bias_scheme("kaiming_uniform"));
  ASSERT_FALSE(report.is_ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kUsage);
  EXPECT_NE(report.status().message().find("'b' (a bias) with --bias kaiming_uniform"), std::string::npos)
      << report.status().message();
  EXPECT_EQ(m.SerializeAsString(), before);
}

}  // namespace
}  // namespace onnx_mini::init
