// Unary math ops against <cmath> in double, and Clip's two forms.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(UnaryMath, FloatOpsAgainstDoubleReference) {
  struct U { const char* op; double (*f)(double); float lo, hi; };
  const std::vector<U> ops = {
      {"Abs", [](double x) { return std::fabs(x); }, -5, 5},
      {"Neg", [](double x) { return -x; }, -5, 5},
      {"Exp", [](double x) { return std::exp(x); }, -20, 20},
      {"Log", [](double x) { return std::log(x); }, 1e-3f, 100},
      {"Sqrt", [](double x) { return std::sqrt(x); }, 0, 100},
      {"Reciprocal", [](double x) { return 1 / x; }, 0.1f, 10},
      {"Erf", [](double x) { return std::erf(x); }, -4, 4},
      {"Floor", [](double x) { return std::floor(x); }, -5, 5},
      {"Ceil", [](double x) { return std::ceil(x); }, -5, 5},
      {"Sign", [](double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }, -5, 5},
  };
  uint32_t seed = 100;
  for (const U& u : ops) {
    Tensor x = random_tensor({4, 5}, seed++, u.lo, u.hi);
    auto out = NodeModel(u.op, 13).feed(x).run();
    ASSERT_TRUE(out.is_ok()) << u.op << ": " << out.status().message();
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      double want = u.f(x.data<float>()[i]);
      // float32 libm vs double: within 2 ulp -> 2.5e-7 relative.
      EXPECT_NEAR(out.value()[0].data<float>()[i], want, 2.5e-7 * std::max(1.0, std::fabs(want))) << u.op << " at " << i;
    }
  }
}

TEST(UnaryMath, EmptyTensor) {
  auto out = NodeModel("Exp", 13).feed(Tensor::allocate(DataType::kFloat, {0, 3})).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value()[0].shape(), (Shape{0, 3}));
}

TEST(UnaryMath, IntegerAbsNegSign) {
  Tensor x = make_tensor<int32_t>({4}, {-3, 0, 5, std::numeric_limits<int32_t>::min()});
  auto abs = NodeModel("Abs", 13).feed(x).run();
  auto neg = NodeModel("Neg", 13).feed(x).run();
  auto sign = NodeModel("Sign", 13).feed(x).run();
  ASSERT_TRUE(abs.is_ok() && neg.is_ok() && sign.is_ok());
  const int32_t mn = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(values_of<int32_t>(abs.value()[0]), (std::vector<int32_t>{3, 0, 5, mn}));  // wraps as two's complement
  EXPECT_EQ(values_of<int32_t>(neg.value()[0]), (std::vector<int32_t>{3, 0, -5, mn}));
  EXPECT_EQ(values_of<int32_t>(sign.value()[0]), (std::vector<int32_t>{-1, 0, 1, -1}));
}

TEST(UnaryMath, ExpOfIntegerIsUnsupported) {
  auto out = NodeModel("Exp", 13).feed(make_tensor<int32_t>({1}, {1})).run();
  ASSERT_FALSE(out.is_ok());
}

TEST(UnaryMath, ClipAttributesBeforeOpset11) {
  auto out = NodeModel("Clip", 6).feed(make_tensor<float>({4}, {-2, -0.5f, 0.5f, 2})).attr_float("min", -1).attr_float("max", 1).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{-1, -0.5f, 0.5f, 1}));
  // Clip-11 no longer accepts the attributes.
  auto v11 = NodeModel("Clip", 11).feed(make_tensor<float>({1}, {0})).attr_float("min", -1).run();
  ASSERT_FALSE(v11.is_ok());
}

TEST(UnaryMath, ClipInputsWithEmptyOptional) {
  Tensor x = make_tensor<float>({4}, {-2, -0.5f, 0.5f, 1e30f});
  // min given, max absent (empty name, as PyTorch exports clamp(min=...)).
  auto out = NodeModel("Clip", 13).feed(x).feed(scalar<float>(-1)).none().run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{-1, -0.5f, 0.5f, 1e30f}));
  // max only.
  auto hi = NodeModel("Clip", 13).feed(x).none().feed(scalar<float>(0)).run();
  ASSERT_TRUE(hi.is_ok()) << hi.status().message();
  EXPECT_EQ(values_of<float>(hi.value()[0]), (std::vector<float>{-2, -0.5f, 0, 0}));
  // min > max: everything becomes max (numpy.clip).
  auto inv = NodeModel("Clip", 13).feed(x).feed(scalar<float>(1)).feed(scalar<float>(0)).run();
  ASSERT_TRUE(inv.is_ok());
  EXPECT_EQ(values_of<float>(inv.value()[0]), (std::vector<float>{0, 0, 0, 0}));
}

TEST(UnaryMath, ClipIntegerAndBadBound) {
  auto out = NodeModel("Clip", 13).feed(make_tensor<int64_t>({3}, {-5, 3, 9})).feed(scalar<int64_t>(0)).feed(scalar<int64_t>(4)).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{0, 3, 4}));
  auto bad = NodeModel("Clip", 13).feed(make_tensor<float>({1}, {0})).feed(make_tensor<float>({2}, {0, 1})).run();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'min'"), std::string::npos);
}

}  // namespace
}  // namespace onnx_mini::testing
