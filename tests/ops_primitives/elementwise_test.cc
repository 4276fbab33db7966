// Add/Sub/Mul/Div/Pow and variadic Max/Min/Sum/Mean against naive references.
#include <gtest/gtest.h>

#include <limits>

#include "tests/ops_primitives/node_runner.h"

namespace onnx_mini::testing {
namespace {

// Naive broadcasting reference in double.
Tensor reference_binary(const Tensor& a, const Tensor& b, const std::function<double(double, double)>& f) {
  Shape out = broadcast_shapes(a.shape(), b.shape()).value();
  Tensor r = Tensor::allocate(DataType::kFloat, out);
  for (int64_t i = 0; i < r.num_elements(); ++i) {
    auto c = unravel(i, out);
    double x = a.data<float>()[broadcast_source(c, a.shape(), out)];
    double y = b.data<float>()[broadcast_source(c, b.shape(), out)];
    r.data<float>()[i] = static_cast<float>(f(x, y));
  }
  return r;
}

void expect_close(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    float w = want.data<float>()[i], g = got.data<float>()[i];
    // float32 op vs double reference rounded to float: at most 1 ulp apart -> 1e-6 relative.
    EXPECT_NEAR(g, w, 1e-6f * std::max(1.f, std::fabs(w))) << "at " << i;
  }
}

struct BinaryCase {
  const char* op;
  std::function<double(double, double)> f;
};

TEST(Elementwise, BinaryOpsBroadcastAgainstReference) {
  const std::vector<BinaryCase> ops = {
      {"Add", [](double a, double b) { return a + b; }},
      {"Sub", [](double a, double b) { return a - b; }},
      {"Mul", [](double a, double b) { return a * b; }},
      {"Div", [](double a, double b) { return a / b; }},
  };
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 3}}, {{5}, {}}, {{1, 3}, {4, 1}},
      {{0, 3}, {3}},  // zero-size dim
  };
  uint32_t seed = 1;
  for (const auto& c : ops) {
    for (const auto& [sa, sb] : shapes) {
      Tensor a = random_float(sa, seed++), b = random_float(sb, seed++, 0.5f, 3.f);
      auto out = NodeModel(c.op, 14).feed(a).feed(b).run();
      ASSERT_TRUE(out.is_ok()) << c.op << ": " << out.status().message();
      expect_close(out.value()[0], reference_binary(a, b, c.f));
    }
  }
}

TEST(Elementwise, IncompatibleBroadcastIsAnError) {
  auto out = NodeModel("Add", 14).feed(random_float({2, 3}, 1)).feed(random_float({4}, 2)).run();
  ASSERT_FALSE(out.is_ok());
}

TEST(Elementwise, IntegerDivByZeroIsAnError) {
  auto out = NodeModel("Div", 14).feed(make<int32_t>({3}, {1, 2, 3})).feed(make<int32_t>({3}, {1, 0, 1})).run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(out.status().message().find("division by zero"), std::string::npos) << out.status().message();
}

TEST(Elementwise, IntegerDivTruncatesAndMinByMinusOneWraps) {
  const int64_t mn = std::numeric_limits<int64_t>::min();
  auto out = NodeModel("Div", 14).feed(make<int64_t>({3}, {-7, 7, mn})).feed(make<int64_t>({3}, {2, -2, -1})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{-3, -3, mn}));
}

TEST(Elementwise, IntegerAddWrapsInsteadOfOverflowing) {
  const int32_t mx = std::numeric_limits<int32_t>::max();
  auto out = NodeModel("Add", 14).feed(make<int32_t>({1}, {mx})).feed(make<int32_t>({1}, {1})).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value()[0].data<int32_t>()[0], std::numeric_limits<int32_t>::min());
}

TEST(Elementwise, DtypeMismatchIsAnError) {
  auto out = NodeModel("Add", 14).feed(make<float>({1}, {1})).feed(make<double>({1}, {1})).run();
  ASSERT_FALSE(out.is_ok());
}

TEST(Elementwise, PowMixedDtypesOnlyFromOpset12) {
  Tensor x = make<float>({3}, {2, 3, -2});
  Tensor e = make<int64_t>({3}, {3, 2, 2});
  auto v12 = NodeModel("Pow", 12).feed(x).feed(e).run();
  ASSERT_TRUE(v12.is_ok()) << v12.status().message();
  EXPECT_EQ(values_of<float>(v12.value()[0]), (std::vector<float>{8, 9, 4}));
  auto v7 = NodeModel("Pow", 7).feed(x).feed(e).run();
  ASSERT_FALSE(v7.is_ok());
}

TEST(Elementwise, PowIntegerBaseExact) {
  auto out = NodeModel("Pow", 15).feed(make<int64_t>({4}, {3, -2, 2, 5})).feed(make<int64_t>({4}, {39, 3, -1, 0})).run();
  ASSERT_TRUE(out.is_ok());
  // 3^39 = 4052555153018976267 fits int64 and is beyond double's exact range.
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{4052555153018976267LL, -8, 0, 1}));
}

TEST(Elementwise, PowFloatAgainstReference) {
  Tensor a = random_float({3, 4}, 7, 0.1f, 4.f), b = random_float({4}, 8);
  auto out = NodeModel("Pow", 15).feed(a).feed(b).run();
  ASSERT_TRUE(out.is_ok());
  expect_close(out.value()[0], reference_binary(a, b, [](double x, double y) { return std::pow(x, y); }));
}

TEST(Elementwise, VariadicBroadcastAgainstReference) {
  Tensor a = random_float({2, 3}, 11), b = random_float({3}, 12), c = random_float({2, 1}, 13);
  struct V { const char* op; std::function<double(double, double)> f; };
  for (const V& v : {V{"Max", [](double x, double y) { return std::max(x, y); }},
                     V{"Min", [](double x, double y) { return std::min(x, y); }},
                     V{"Sum", [](double x, double y) { return x + y; }}}) {
    auto out = NodeModel(v.op, 13).feed(a).feed(b).feed(c).run();
    ASSERT_TRUE(out.is_ok()) << v.op << ": " << out.status().message();
    expect_close(out.value()[0], reference_binary(reference_binary(a, b, v.f), c, v.f));
  }
  auto mean = NodeModel("Mean", 13).feed(a).feed(b).feed(c).run();
  ASSERT_TRUE(mean.is_ok());
  Tensor sum = reference_binary(reference_binary(a, b, std::plus<double>()), c, std::plus<double>());
  for (int64_t i = 0; i < sum.num_elements(); ++i) sum.data<float>()[i] /= 3;
  expect_close(mean.value()[0], sum);
  auto single = NodeModel("Max", 13).feed(a).run();  // one input: a copy
  ASSERT_TRUE(single.is_ok());
  EXPECT_EQ(values_of<float>(single.value()[0]), values_of<float>(a));
}

TEST(Elementwise, MaxPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = NodeModel("Max", 13).feed(make<float>({2}, {nan, 1})).feed(make<float>({2}, {0, nan})).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_TRUE(std::isnan(out.value()[0].data<float>()[0]));
  EXPECT_TRUE(std::isnan(out.value()[0].data<float>()[1]));
}

}  // namespace
}  // namespace onnx_mini::testing
