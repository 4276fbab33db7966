// Add/Sub/Mul/Div/Pow and variadic Max/Min/Sum/Mean against naive references.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/half.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

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

// float32 op vs double reference rounded to float: at most 1 ulp apart -> 1e-6
// relative above 1, absolute below.
constexpr Tolerance kOneUlp = {.rtol = 1e-6f, .magnitude_floor = 1};

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
      Tensor a = random_tensor(sa, seed++, -3.f, 3.f), b = random_tensor(sb, seed++, 0.5f, 3.f);
      auto out = NodeModel(c.op, 14).feed(a).feed(b).run();
      ASSERT_TRUE(out.is_ok()) << c.op << ": " << out.status().message();
      expect_close(out.value()[0], reference_binary(a, b, c.f), kOneUlp);
    }
  }
}

// Add's output shape against shapes written out by hand, and its values against
// a double reference: one float32 rounding, far inside atol 1e-4 + rtol 1e-5.
TEST(Elementwise, AddBroadcastsToTheExpectedShape) {
  struct Case {
    Shape a, b, y;
  };
  for (const Case& c : {Case{{2, 3}, {2, 3}, {2, 3}}, Case{{2, 3}, {3}, {2, 3}}, Case{{2, 3}, {}, {2, 3}},
                        Case{{2, 1, 4}, {3, 1}, {2, 3, 4}}, Case{{1}, {5, 1, 2}, {5, 1, 2}},
                        Case{{3, 1}, {1, 4}, {3, 4}}}) {
    Tensor a = random_tensor(c.a, 7), b = random_tensor(c.b, 8);
    auto out = NodeModel("Add", 13).feed(a).feed(b).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    Tensor want = Tensor::allocate(DataType::kDouble, c.y);
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const std::vector<int64_t> coord = unravel(i, c.y);
      want.data<double>()[i] = static_cast<double>(a.data<float>()[broadcast_source(coord, c.a, c.y)]) +
                               b.data<float>()[broadcast_source(coord, c.b, c.y)];
    }
    expect_close(out.value()[0], want, {.atol = 1e-4, .rtol = 1e-5});
  }
}

TEST(Elementwise, IncompatibleBroadcastIsAnError) {
  auto out = NodeModel("Add", 14).feed(random_tensor({2, 3}, 1, -3.f, 3.f)).feed(random_tensor({4}, 2, -3.f, 3.f)).run();
  ASSERT_FALSE(out.is_ok());
}

TEST(Elementwise, IntegerDivByZeroIsAnError) {
  auto out = NodeModel("Div", 14).feed(make_tensor<int32_t>({3}, {1, 2, 3})).feed(make_tensor<int32_t>({3}, {1, 0, 1})).run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(out.status().message().find("division by zero"), std::string::npos) << out.status().message();
}

TEST(Elementwise, IntegerDivTruncatesAndMinByMinusOneWraps) {
  const int64_t mn = std::numeric_limits<int64_t>::min();
  auto out = NodeModel("Div", 14).feed(make_tensor<int64_t>({3}, {-7, 7, mn})).feed(make_tensor<int64_t>({3}, {2, -2, -1})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{-3, -3, mn}));
}

TEST(Elementwise, IntegerAddWrapsInsteadOfOverflowing) {
  const int32_t mx = std::numeric_limits<int32_t>::max();
  auto out = NodeModel("Add", 14).feed(make_tensor<int32_t>({1}, {mx})).feed(make_tensor<int32_t>({1}, {1})).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(out.value()[0].data<int32_t>()[0], std::numeric_limits<int32_t>::min());
}

TEST(Elementwise, DtypeMismatchIsAnError) {
  auto out = NodeModel("Add", 14).feed(make_tensor<float>({1}, {1})).feed(make_tensor<double>({1}, {1})).run();
  ASSERT_FALSE(out.is_ok());
}

TEST(Elementwise, PowMixedDtypesOnlyFromOpset12) {
  Tensor x = make_tensor<float>({3}, {2, 3, -2});
  Tensor e = make_tensor<int64_t>({3}, {3, 2, 2});
  auto v12 = NodeModel("Pow", 12).feed(x).feed(e).run();
  ASSERT_TRUE(v12.is_ok()) << v12.status().message();
  EXPECT_EQ(values_of<float>(v12.value()[0]), (std::vector<float>{8, 9, 4}));
  auto v7 = NodeModel("Pow", 7).feed(x).feed(e).run();
  ASSERT_FALSE(v7.is_ok());
}

TEST(Elementwise, PowIntegerBaseExact) {
  auto out = NodeModel("Pow", 15).feed(make_tensor<int64_t>({4}, {3, -2, 2, 5})).feed(make_tensor<int64_t>({4}, {39, 3, -1, 0})).run();
  ASSERT_TRUE(out.is_ok());
  // 3^39 = 4052555153018976267 fits int64 and is beyond double's exact range.
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{4052555153018976267LL, -8, 0, 1}));
}

TEST(Elementwise, PowFloatAgainstReference) {
  Tensor a = random_tensor({3, 4}, 7, 0.1f, 4.f), b = random_tensor({4}, 8, -3.f, 3.f);
  auto out = NodeModel("Pow", 15).feed(a).feed(b).run();
  ASSERT_TRUE(out.is_ok());
  expect_close(out.value()[0], reference_binary(a, b, [](double x, double y) { return std::pow(x, y); }), kOneUlp);
}

TEST(Elementwise, VariadicBroadcastAgainstReference) {
  Tensor a = random_tensor({2, 3}, 11, -3.f, 3.f), b = random_tensor({3}, 12, -3.f, 3.f), c = random_tensor({2, 1}, 13, -3.f, 3.f);
  struct V { const char* op; std::function<double(double, double)> f; };
  for (const V& v : {V{"Max", [](double x, double y) { return std::max(x, y); }},
                     V{"Min", [](double x, double y) { return std::min(x, y); }},
                     V{"Sum", [](double x, double y) { return x + y; }}}) {
    auto out = NodeModel(v.op, 13).feed(a).feed(b).feed(c).run();
    ASSERT_TRUE(out.is_ok()) << v.op << ": " << out.status().message();
    expect_close(out.value()[0], reference_binary(reference_binary(a, b, v.f), c, v.f), kOneUlp);
  }
  auto mean = NodeModel("Mean", 13).feed(a).feed(b).feed(c).run();
  ASSERT_TRUE(mean.is_ok());
  Tensor sum = reference_binary(reference_binary(a, b, std::plus<double>()), c, std::plus<double>());
  for (int64_t i = 0; i < sum.num_elements(); ++i) sum.data<float>()[i] /= 3;
  expect_close(mean.value()[0], sum, kOneUlp);
  auto single = NodeModel("Max", 13).feed(a).run();  // one input: a copy
  ASSERT_TRUE(single.is_ok());
  EXPECT_EQ(values_of<float>(single.value()[0]), values_of<float>(a));
}

TEST(Elementwise, MaxPropagatesNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto out = NodeModel("Max", 13).feed(make_tensor<float>({2}, {nan, 1})).feed(make_tensor<float>({2}, {0, nan})).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_TRUE(std::isnan(out.value()[0].data<float>()[0]));
  EXPECT_TRUE(std::isnan(out.value()[0].data<float>()[1]));
}

// Max/Min on float16 (computed in float32, exact: the result is one of the
// inputs, which float16 -> float -> float16 keeps bit for bit); NaN stays NaN.
TEST(Elementwise, MaxMinFloat16SelectExactly) {
  const std::vector<double> av = {1.5, -2.0, 0.0, -0.0, 65504.0, -INFINITY, 5.960464477539063e-08, 3.0};
  const std::vector<double> bv = {1.0, -1.0, -0.0, 0.0, INFINITY, -65504.0, 0.0, NAN};
  auto half_tensor = [](const Shape& shape, const std::vector<double>& v) {
    Tensor t = Tensor::allocate(DataType::kFloat16, shape);
    for (size_t i = 0; i < v.size(); ++i) t.data<uint16_t>()[i] = double_to_half(v[i]);
    return t;
  };
  Tensor a = half_tensor({8}, av), b = half_tensor({8}, bv);
  for (const char* op : {"Max", "Min"}) {
    const bool is_max = std::string(op) == "Max";
    auto out = NodeModel(op, 13).feed(a).feed(b).run();
    ASSERT_TRUE(out.is_ok()) << op << ": " << out.status().message();
    const Tensor& y = out.value()[0];
    ASSERT_EQ(y.dtype(), DataType::kFloat16);
    for (size_t i = 0; i < av.size(); ++i) {
      const uint16_t got = y.data<uint16_t>()[i];
      if (std::isnan(bv[i])) {
        EXPECT_TRUE(std::isnan(half_to_double(got))) << op << " at " << i;
        continue;
      }
      // Same selection rule as float (first input on ties, so Max(0, -0) is 0 and Max(-0, 0) is -0).
      const bool pick_b = is_max ? av[i] < bv[i] : bv[i] < av[i];
      EXPECT_EQ(got, pick_b ? b.data<uint16_t>()[i] : a.data<uint16_t>()[i]) << op << " at " << i;
    }
  }
  // Three inputs with broadcasting, against the float computation.
  Tensor c = half_tensor({2, 1}, {0.25, -7.0});
  auto out = NodeModel("Max", 13).feed(half_tensor({4}, {1.0, -3.0, 0.5, -8.0})).feed(half_tensor({1}, {-1.0})).feed(c).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  ASSERT_EQ(out.value()[0].shape(), (Shape{2, 4}));
  const std::vector<double> want = {1.0, 0.25, 0.5, 0.25, 1.0, -1.0, 0.5, -1.0};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(half_to_double(out.value()[0].data<uint16_t>()[i]), want[i]) << i;
}

// Sum has no float16 kernel: the session computes it in float32 (inputs
// widened exactly) and rounds the result once to nearest even, so each element
// is exactly float_to_half(float(a) + float(b)); NaN stays NaN.
TEST(Elementwise, SumFloat16ComputesInFloat32AndRoundsOnce) {
  const std::vector<double> av = {1.5, -2.0, 0.0, 65504.0, -INFINITY, 5.960464477539063e-08, 3.0, 2048.0};
  const std::vector<double> bv = {1.0, -1.0, -0.0, 65504.0, -65504.0, 5.960464477539063e-08, NAN, 1.0};
  Tensor a = Tensor::allocate(DataType::kFloat16, {8}), b = Tensor::allocate(DataType::kFloat16, {8});
  for (size_t i = 0; i < av.size(); ++i) {
    a.data<uint16_t>()[i] = double_to_half(av[i]);
    b.data<uint16_t>()[i] = double_to_half(bv[i]);
  }
  auto out = NodeModel("Sum", 13).feed(a).feed(b).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  const Tensor& y = out.value()[0];
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  for (size_t i = 0; i < av.size(); ++i) {
    const uint16_t got = y.data<uint16_t>()[i];
    const float sum = half_to_float(a.data<uint16_t>()[i]) + half_to_float(b.data<uint16_t>()[i]);
    if (std::isnan(sum)) {
      EXPECT_TRUE(std::isnan(half_to_float(got))) << i;
      continue;
    }
    EXPECT_EQ(got, float_to_half(sum)) << i << ": " << half_to_float(got) << " vs " << sum;
  }
  // 2048 + 1 is a tie between float16 neighbours 2048 and 2050: even wins.
  EXPECT_EQ(half_to_float(y.data<uint16_t>()[7]), 2048.0f);
  // 65504 + 65504 overflows float16: inf.
  EXPECT_TRUE(std::isinf(half_to_float(y.data<uint16_t>()[3])));
}

// Opset 7 resolves Max/Min/Sum/Mean to version 6: equal shapes only
// (broadcasting arrived in 8).
TEST(Elementwise, VariadicAtOpset7NeedsEqualShapes) {
  Tensor a = random_tensor({2, 3}, 21, -3.f, 3.f), b = random_tensor({2, 3}, 22, -3.f, 3.f);
  for (const char* op : {"Max", "Min", "Sum", "Mean"}) {
    auto out = NodeModel(op, 7).feed(a).feed(b).run();
    ASSERT_TRUE(out.is_ok()) << op << ": " << out.status().message();
    auto bcast = NodeModel(op, 7).feed(a).feed(random_tensor({3}, 23, -3.f, 3.f)).run();
    ASSERT_FALSE(bcast.is_ok()) << op;
    EXPECT_NE(bcast.status().message().find("opset 8"), std::string::npos) << bcast.status().message();
    EXPECT_TRUE(NodeModel(op, 8).feed(a).feed(random_tensor({3}, 23, -3.f, 3.f)).run().is_ok()) << op;
  }
  auto sum = NodeModel("Sum", 7).feed(a).feed(b).run();
  ASSERT_TRUE(sum.is_ok());
  expect_close(sum.value()[0], reference_binary(a, b, std::plus<double>()), kOneUlp);
}

// Opset 6 arithmetic: `broadcast` = 1 aligns B to A's trailing dims, or to
// `axis`; without it the shapes must be equal. Opset 7+ rejects the attributes.
TEST(Elementwise, LegacyBroadcastAttributeAtOpset6) {
  Tensor a = random_tensor({2, 3, 4, 5}, 31, -3.f, 3.f);
  auto plus = [](double x, double y) { return x + y; };
  auto suffix = NodeModel("Add", 6).feed(a).feed(random_tensor({4, 5}, 32, -3.f, 3.f)).attr_int("broadcast", 1).run();
  ASSERT_TRUE(suffix.is_ok()) << suffix.status().message();
  Tensor b45 = random_tensor({4, 5}, 32, -3.f, 3.f);
  expect_close(suffix.value()[0], reference_binary(a, b45, plus), kOneUlp);

  // axis = 1: B [3, 4] lines up with A's dims 1 and 2, i.e. numpy's [3, 4, 1].
  Tensor b34 = random_tensor({3, 4}, 33, -3.f, 3.f);
  auto mid = NodeModel("Mul", 6).feed(a).feed(b34).attr_int("broadcast", 1).attr_int("axis", 1).run();
  ASSERT_TRUE(mid.is_ok()) << mid.status().message();
  expect_close(mid.value()[0], reference_binary(a, b34.reshaped({3, 4, 1}), [](double x, double y) { return x * y; }), kOneUlp);

  Tensor b2 = random_tensor({2}, 34, -3.f, 3.f);
  auto lead = NodeModel("Sub", 6).feed(a).feed(b2).attr_int("broadcast", 1).attr_int("axis", 0).run();
  ASSERT_TRUE(lead.is_ok()) << lead.status().message();
  expect_close(lead.value()[0], reference_binary(a, b2.reshaped({2, 1, 1, 1}), [](double x, double y) { return x - y; }), kOneUlp);

  auto scalar_like = NodeModel("Div", 6).feed(a).feed(make_tensor<float>({1, 1}, {2.f})).attr_int("broadcast", 1).run();
  ASSERT_TRUE(scalar_like.is_ok()) << scalar_like.status().message();
  EXPECT_EQ(scalar_like.value()[0].data<float>()[7], a.data<float>()[7] / 2.f);

  // B [3] at the default (trailing) position meets A's 5: no numpy fallback.
  auto wrong = NodeModel("Add", 6).feed(a).feed(random_tensor({3}, 35, -3.f, 3.f)).attr_int("broadcast", 1).run();
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("'broadcast'"), std::string::npos) << wrong.status().message();
  auto past_end = NodeModel("Add", 6).feed(a).feed(b34).attr_int("broadcast", 1).attr_int("axis", 3).run();
  ASSERT_FALSE(past_end.is_ok());
  EXPECT_NE(past_end.status().message().find("'axis'"), std::string::npos) << past_end.status().message();
  // broadcast = 0 (the default): shapes must match, even where numpy would broadcast.
  auto no_attr = NodeModel("Add", 6).feed(a).feed(b45).run();
  ASSERT_FALSE(no_attr.is_ok());
  EXPECT_NE(no_attr.status().message().find("'broadcast' is 0"), std::string::npos) << no_attr.status().message();
  auto no_attr_sym = NodeModel("Add", 6).input(In::feed_symbolic(a)).feed(b45).run();
  ASSERT_FALSE(no_attr_sym.is_ok());
  EXPECT_EQ(no_attr_sym.status().code(), ErrorCode::kBadInput);
  auto same = NodeModel("Add", 6).feed(a).feed(a).run();
  ASSERT_TRUE(same.is_ok()) << same.status().message();
  expect_close(same.value()[0], reference_binary(a, a, plus), kOneUlp);
  // The attributes belong to version 6 only.
  auto at7 = NodeModel("Add", 7).feed(a).feed(b45).attr_int("broadcast", 1).run();
  ASSERT_FALSE(at7.is_ok());
  EXPECT_NE(at7.status().message().find("unknown attribute 'broadcast'"), std::string::npos) << at7.status().message();
}

}  // namespace
}  // namespace onnx_mini::testing
