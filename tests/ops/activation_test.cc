// Registration facts the sweep does not cover: versions, attributes and their
// defaults, integer Relu, Relu's edge values through a session, PRelu's
// broadcast, named edge values from the issue.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ops/activation_functors.h"
#include "tests/testutil/kernel_runner.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(Activation, IssueEdgeValuesAreFinite) {
  // The two promises named in the issue, checked literally.
  EXPECT_EQ(SigmoidFn{}(-1000.0f), 0.0f);
  EXPECT_EQ(SigmoidFn{}(1000.0f), 1.0f);
  EXPECT_EQ(SoftplusFn{}(1000.0f), 1000.0f);
  EXPECT_EQ(SoftplusFn{}(-1000.0f), 0.0f);
  EXPECT_EQ(MishFn{}(-INFINITY), 0.0f);
  EXPECT_EQ(HardSwishFn{}(-INFINITY), 0.0f);
  EXPECT_EQ(SoftsignFn{}(INFINITY), 1.0f);
  EXPECT_TRUE(std::isnan(ThresholdedReluFn{}(NAN)));  // NaN propagates, as Relu
}

TEST(Activation, DefaultsAndAttributes) {
  Tensor x = make_tensor<float>({1}, {-2.0f});
  auto run1 = [&](const std::string& op, int opset, const Attributes& a) {
    auto out = run_kernel(op, opset, a, {&x});
    EXPECT_TRUE(out.is_ok()) << op << ": " << out.status().message();
    return out.is_ok() ? (*out)[0].data<float>()[0] : NAN;
  };
  EXPECT_FLOAT_EQ(run1("LeakyRelu", 16, Attributes{}), -0.02f);
  EXPECT_FLOAT_EQ(run1("Elu", 6, Attributes{}), std::expm1(-2.0f));
  EXPECT_FLOAT_EQ(run1("Selu", 6, Attributes{}), 1.0507010f * 1.6732632f * std::expm1(-2.0f));
  EXPECT_FLOAT_EQ(run1("HardSigmoid", 6, Attributes{}), 0.1f);
  Attributes celu;
  celu.set("alpha", float_attr(2.0f));
  EXPECT_FLOAT_EQ(run1("Celu", 12, celu), 2.0f * std::expm1(-1.0f));
  Attributes thr;
  thr.set("alpha", float_attr(-3.0f));
  EXPECT_FLOAT_EQ(run1("ThresholdedRelu", 10, thr), -2.0f);
  // Unknown attributes are rejected (Relu has none), as the loader would.
  Attributes extra;
  extra.set("alpha", float_attr(1.0f));
  EXPECT_FALSE(run_kernel("Relu", 14, extra, {&x}).is_ok());
  // A legacy opset-1 model's consumed_inputs is accepted there only.
  Attributes legacy;
  Attribute ints;
  ints.kind = Attribute::Kind::kInts;
  legacy.set("consumed_inputs", ints);
  EXPECT_TRUE(run_kernel("Sigmoid", 1, legacy, {&x}).is_ok());
  EXPECT_FALSE(run_kernel("Sigmoid", 13, legacy, {&x}).is_ok());
  Attributes gelu;
  gelu.set("approximate", string_attr("fast"));
  EXPECT_FALSE(run_kernel("Gelu", 20, gelu, {&x}).is_ok());
}

TEST(Activation, VersionsMatchSpec) {
  const OpRegistry& r = default_registry();
  EXPECT_EQ(r.find("Celu", "", 11), nullptr);
  EXPECT_EQ(r.find("HardSwish", "", 13), nullptr);
  EXPECT_EQ(r.find("ThresholdedRelu", "", 9), nullptr);
  EXPECT_EQ(r.find("Gelu", "", 17), nullptr);  // opset 20 op
  EXPECT_EQ(r.find("Relu", "", 17)->since_version, 14);
  EXPECT_EQ(r.find("LeakyRelu", "", 17)->since_version, 16);
  EXPECT_EQ(r.find("PRelu", "", 8)->since_version, 7);
  EXPECT_EQ(r.find("SoftmaxCrossEntropyLoss", "", 11), nullptr);
  EXPECT_EQ(r.find("NegativeLogLikelihoodLoss", "", 17)->since_version, 13);
}

TEST(Activation, ReluOnIntegersSigmoidRejectsThem) {
  Tensor xi = make_tensor<int32_t>({3}, {-5, 0, 7});
  auto out = run_kernel("Relu", 14, Attributes{}, {&xi});
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values_of<int32_t>((*out)[0]), (std::vector<int32_t>{0, 0, 7}));
  auto bad = run_kernel("Sigmoid", 13, Attributes{}, {&xi});
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUnsupported);
}

TEST(Activation, ReluEdgeCasesIncludingNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  auto out = NodeModel("Relu", 13).feed(make_tensor({6}, {-inf, -1e-30f, 0.f, 1e-30f, inf, std::nanf("")})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const Tensor& y = out.value()[0];
  EXPECT_EQ(y.data<float>()[0], 0.f);
  EXPECT_EQ(y.data<float>()[1], 0.f);
  EXPECT_EQ(y.data<float>()[3], 1e-30f);
  EXPECT_EQ(y.data<float>()[4], inf);
  EXPECT_TRUE(std::isnan(y.data<float>()[5])) << "NaN must propagate";
}

TEST(PRelu, SlopeBroadcastsPerChannel) {
  Tensor x = make_tensor<float>({1, 2, 2}, {-1, 2, -3, 4});
  Tensor slope = make_tensor<float>({2, 1}, {0.5f, 0.25f});  // per channel
  auto out = run_kernel("PRelu", 16, Attributes{}, {&x, &slope});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>((*out)[0]), (std::vector<float>{-0.5f, 2, -0.75f, 4}));
}

TEST(PRelu, SlopeThatWouldGrowXIsRejected) {
  Tensor x = make_tensor<float>({2}, {-1, 1});
  Tensor slope = make_tensor<float>({3, 2}, {1, 1, 1, 1, 1, 1});
  auto out = run_kernel("PRelu", 16, Attributes{}, {&x, &slope});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
}

}  // namespace
}  // namespace onnx_mini::testing
