// The Foundation kernels against naive double-precision references on seeded
// random inputs and edge cases.
//
// Tolerance: float32 kernels vs a float64 reference. For a dot product of length K
// with inputs in [-1, 1) the float32 rounding error is bounded by about
// K * 2^-24 * sum|a_i b_i| <= K^2 * 6e-8; for the sizes used here (K <= 64) we use
// atol 1e-4 + rtol 1e-5, which is above that bound and far below any real bug.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/model_builder.h"

namespace onnx_mini {
namespace {

using testing::ModelBuilder;
using testing::Tolerance;
using testing::expect_close;
using testing::make_tensor;
using testing::random_tensor;
using testing::set_attr;

constexpr Tolerance kTolerance = {.atol = 1e-4, .rtol = 1e-5};

Tensor run_single(ModelBuilder& b, const std::vector<NamedTensor>& inputs) {
  auto s = testing::make_session(b.model());
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  if (!s.is_ok()) return {};
  auto out = (*s)->run(inputs);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  return out.is_ok() ? out->at(0).tensor : Tensor();
}

// Offsets into a and b of output element i, with a and b broadcast to `out`
// (shapes already padded with leading 1s to out's rank): the reference's own,
// index-arithmetic broadcasting, independent of ops/broadcast.h.
std::pair<int64_t, int64_t> broadcast_offsets(int64_t i, const Shape& a, const Shape& b, const Shape& out) {
  int64_t rem = i, oa = 0, ob = 0, sa = 1, sb = 1;
  for (size_t d = out.size(); d-- > 0;) {
    int64_t coord = rem % out[d];
    rem /= out[d];
    oa += (a[d] == 1 ? 0 : coord) * sa;
    ob += (b[d] == 1 ? 0 : coord) * sb;
    sa *= a[d];
    sb *= b[d];
  }
  return {oa, ob};
}

// Naive Gemm in double: Y = alpha * op(A) op(B) + beta * C (C broadcast).
std::vector<double> gemm_ref(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, double alpha,
                             double beta, int64_t m, int64_t n, int64_t k) {
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        double av = a.data<float>()[ta ? p * m + i : i * k + p];
        double bv = b.data<float>()[tb ? j * k + p : p * n + j];
        acc += av * bv;
      }
      double cv = 0;
      if (c) {
        const Shape& cs = c->shape();
        int64_t cm = cs.size() == 2 ? cs[0] : 1, cn = cs.empty() ? 1 : cs.back();
        cv = c->data<float>()[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      }
      y[static_cast<size_t>(i * n + j)] = alpha * acc + beta * cv;
    }
  }
  return y;
}

struct GemmCase {
  int64_t m, n, k;
  bool ta, tb;
  float alpha, beta;
  Shape c_shape;  // empty vector with has_c=false means no C
  bool has_c;
};

class GemmTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmTest, MatchesReference) {
  const GemmCase& p = GetParam();
  Tensor a = random_tensor(p.ta ? Shape{p.k, p.m} : Shape{p.m, p.k}, 1);
  Tensor b = random_tensor(p.tb ? Shape{p.n, p.k} : Shape{p.k, p.n}, 2);
  Tensor c = random_tensor(p.c_shape, 3);
  ModelBuilder mb(13);
  mb.input("A", DataType::kFloat, a.shape());
  mb.input("B", DataType::kFloat, b.shape());
  std::vector<std::string> ins = {"A", "B"};
  if (p.has_c) {
    mb.input("C", DataType::kFloat, c.shape());
    ins.push_back("C");
  }
  auto& node = mb.node("Gemm", ins, {"Y"}, "gemm");
  set_attr(node, "transA", int64_t{p.ta});
  set_attr(node, "transB", int64_t{p.tb});
  set_attr(node, "alpha", p.alpha);
  set_attr(node, "beta", p.beta);
  mb.output("Y");
  std::vector<NamedTensor> feeds = {{"A", a}, {"B", b}};
  if (p.has_c) feeds.push_back({"C", c});
  Tensor y = run_single(mb, feeds);
  expect_close(y, make_tensor<double>({p.m, p.n}, gemm_ref(a, b, p.has_c ? &c : nullptr, p.ta, p.tb, p.alpha, p.beta, p.m, p.n, p.k)), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmTest,
    ::testing::Values(GemmCase{3, 4, 5, false, false, 1, 1, {3, 4}, true}, GemmCase{3, 4, 5, true, false, 1, 1, {4}, true},
                      GemmCase{3, 4, 5, false, true, 0.5f, 2, {1, 4}, true},
                      GemmCase{3, 4, 5, true, true, 1, 1, {3, 1}, true}, GemmCase{3, 4, 5, false, true, 1, 1, {}, true},
                      GemmCase{3, 4, 5, false, false, 1, 1, {}, false},
                      // M = 1 takes the sgemv path, both B layouts.
                      GemmCase{1, 17, 33, false, true, 1, 1, {17}, true},
                      GemmCase{1, 17, 33, false, false, 2, 0.5f, {17}, true},
                      GemmCase{1, 17, 33, true, false, 1, 1, {1, 17}, true},
                      GemmCase{16, 64, 64, false, true, 1, 1, {64}, true},
                      // beta = 0 ignores C entirely (even NaN-free garbage would not matter).
                      GemmCase{2, 3, 4, false, false, 1, 0, {2, 3}, true}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(GemmErrorTest, MismatchedInnerDimsAtRunTime) {
  ModelBuilder mb(13);
  mb.input("A", DataType::kFloat, {-1, -1});
  mb.input("B", DataType::kFloat, {-1, -1});
  mb.node("Gemm", {"A", "B"}, {"Y"}, "fc");
  mb.output("Y");
  auto s = testing::make_session(mb.model());
  ASSERT_TRUE(s.is_ok());
  auto out = (*s)->run({{"A", random_tensor({2, 3}, 1)}, {"B", random_tensor({4, 5}, 2)}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(out.status().message().find("node 'fc' (Gemm)"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("inner dimensions differ"), std::string::npos);
}

struct MatMulCase {
  Shape a, b, y;
};

class MatMulTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulTest, MatchesReferenceWithNumpySemantics) {
  const MatMulCase& p = GetParam();
  Tensor a = random_tensor(p.a, 4), b = random_tensor(p.b, 5);
  ModelBuilder mb(13);
  mb.input("A", DataType::kFloat, p.a);
  mb.input("B", DataType::kFloat, p.b);
  mb.node("MatMul", {"A", "B"}, {"Y"}, "mm");
  mb.output("Y");
  Tensor y = run_single(mb, {{"A", a}, {"B", b}});
  // Reference: promote 1-D operands, broadcast batch dims by index arithmetic.
  Shape as = p.a, bs = p.b;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  size_t rank = std::max(ab.size(), bb.size());
  while (ab.size() < rank) ab.insert(ab.begin(), 1);
  while (bb.size() < rank) bb.insert(bb.begin(), 1);
  Shape batch(rank);
  for (size_t i = 0; i < rank; ++i) batch[i] = std::max(ab[i], bb[i]);
  int64_t count = num_elements(batch);
  std::vector<double> ref;
  for (int64_t bi = 0; bi < count; ++bi) {
    auto [oa, ob] = broadcast_offsets(bi, ab, bb, batch);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t q = 0; q < k; ++q) {
          acc += static_cast<double>(a.data<float>()[oa * m * k + i * k + q]) * b.data<float>()[ob * k * n + q * n + j];
        }
        ref.push_back(acc);
      }
    }
  }
  expect_close(y, make_tensor<double>(p.y, ref), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatMulTest,
                         ::testing::Values(MatMulCase{{3, 4}, {4, 5}, {3, 5}}, MatMulCase{{4}, {4, 5}, {5}},
                                           MatMulCase{{3, 4}, {4}, {3}}, MatMulCase{{4}, {4}, {}},
                                           MatMulCase{{2, 3, 4}, {4, 5}, {2, 3, 5}},
                                           MatMulCase{{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},
                                           MatMulCase{{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}},
                                           MatMulCase{{1, 6}, {6, 1}, {1, 1}}),
                         [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(AddTest, BroadcastingMatchesReference) {
  struct Case {
    Shape a, b, y;
  };
  for (const Case& c : {Case{{2, 3}, {2, 3}, {2, 3}}, Case{{2, 3}, {3}, {2, 3}}, Case{{2, 3}, {}, {2, 3}},
                        Case{{2, 1, 4}, {3, 1}, {2, 3, 4}}, Case{{1}, {5, 1, 2}, {5, 1, 2}},
                        Case{{3, 1}, {1, 4}, {3, 4}}}) {
    Tensor a = random_tensor(c.a, 7), b = random_tensor(c.b, 8);
    ModelBuilder mb(13);
    mb.input("a", DataType::kFloat, c.a);
    mb.input("b", DataType::kFloat, c.b);
    mb.node("Add", {"a", "b"}, {"y"}, "add");
    mb.output("y");
    Tensor y = run_single(mb, {{"a", a}, {"b", b}});
    std::vector<double> ref;
    Shape ya = c.a, yb = c.b;
    while (ya.size() < c.y.size()) ya.insert(ya.begin(), 1);
    while (yb.size() < c.y.size()) yb.insert(yb.begin(), 1);
    for (int64_t i = 0; i < num_elements(c.y); ++i) {
      auto [oa, ob] = broadcast_offsets(i, ya, yb, c.y);
      ref.push_back(static_cast<double>(a.data<float>()[oa]) + b.data<float>()[ob]);
    }
    expect_close(y, make_tensor<double>(c.y, ref), kTolerance);
  }
}

TEST(ReluTest, EdgeCasesIncludingNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  ModelBuilder mb(13);
  mb.input("x", DataType::kFloat, {6});
  mb.node("Relu", {"x"}, {"y"}, "relu");
  mb.output("y");
  Tensor y = run_single(mb, {{"x", make_tensor({6}, {-inf, -1e-30f, 0.f, 1e-30f, inf, std::nanf("")})}});
  EXPECT_EQ(y.data<float>()[0], 0.f);
  EXPECT_EQ(y.data<float>()[1], 0.f);
  EXPECT_EQ(y.data<float>()[3], 1e-30f);
  EXPECT_EQ(y.data<float>()[4], inf);
  EXPECT_TRUE(std::isnan(y.data<float>()[5])) << "NaN must propagate";
}

std::vector<double> softmax_ref(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log) {
  std::vector<double> y(static_cast<size_t>(x.num_elements()));
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double mx = -INFINITY, sum = 0;
      for (int64_t c = 0; c < n; ++c) mx = std::max(mx, static_cast<double>(x.data<float>()[(o * n + c) * inner + i]));
      for (int64_t c = 0; c < n; ++c) sum += std::exp(x.data<float>()[(o * n + c) * inner + i] - mx);
      for (int64_t c = 0; c < n; ++c) {
        double v = x.data<float>()[(o * n + c) * inner + i] - mx;
        y[static_cast<size_t>((o * n + c) * inner + i)] = log ? v - std::log(sum) : std::exp(v) / sum;
      }
    }
  }
  return y;
}

TEST(SoftmaxTest, Opset13SingleAxisAndPre13CoerceTo2D) {
  Tensor x = random_tensor({2, 3, 4}, 9, -5, 5);
  for (bool log : {false, true}) {
    // Opset 13, axis 1: softmax along the 3-dim only.
    ModelBuilder a(13);
    a.input("x", DataType::kFloat, {2, 3, 4});
    set_attr(a.node(log ? "LogSoftmax" : "Softmax", {"x"}, {"y"}, "sm"), "axis", int64_t{1});
    a.output("y");
    expect_close(run_single(a, {{"x", x}}), make_tensor<double>({2, 3, 4}, softmax_ref(x, 2, 3, 4, log)), kTolerance);
    // Opset 11, axis 1: the input is coerced to [2, 12] and normalised over 12.
    ModelBuilder b(11);
    b.input("x", DataType::kFloat, {2, 3, 4});
    set_attr(b.node(log ? "LogSoftmax" : "Softmax", {"x"}, {"y"}, "sm"), "axis", int64_t{1});
    b.output("y");
    expect_close(run_single(b, {{"x", x}}), make_tensor<double>({2, 3, 4}, softmax_ref(x, 2, 12, 1, log)), kTolerance);
    // Default axis: -1 from 13, 1 before.
    ModelBuilder c(13);
    c.input("x", DataType::kFloat, {2, 3, 4});
    c.node(log ? "LogSoftmax" : "Softmax", {"x"}, {"y"}, "sm");
    c.output("y");
    expect_close(run_single(c, {{"x", x}}), make_tensor<double>({2, 3, 4}, softmax_ref(x, 6, 4, 1, log)), kTolerance);
  }
}

TEST(SoftmaxTest, HugeLogitsStayFiniteAndExact) {
  ModelBuilder mb(13);
  mb.input("x", DataType::kFloat, {1, 3});
  mb.node("LogSoftmax", {"x"}, {"y"}, "lsm");
  mb.output("y");
  Tensor y = run_single(mb, {{"x", make_tensor({1, 3}, {1e4f, 0.f, -1e4f})}});
  EXPECT_EQ(y.data<float>()[0], 0.f);
  EXPECT_EQ(y.data<float>()[1], -1e4f);
  EXPECT_EQ(y.data<float>()[2], -2e4f);
}

TEST(ShapeOpsTest, FlattenReshapeIdentityConstant) {
  Tensor x = random_tensor({2, 3, 4}, 11);
  std::vector<double> flat(x.data<float>(), x.data<float>() + 24);
  for (int64_t axis : {0, 1, 2, 3, -1}) {
    ModelBuilder mb(13);
    mb.input("x", DataType::kFloat, {2, 3, 4});
    set_attr(mb.node("Flatten", {"x"}, {"y"}, "f"), "axis", axis);
    mb.output("y");
    int64_t a = axis < 0 ? axis + 3 : axis, outer = 1;
    for (int64_t d = 0; d < a; ++d) outer *= x.dim(d);
    expect_close(run_single(mb, {{"x", x}}), make_tensor<double>({outer, 24 / outer}, flat), kTolerance);
  }
  ModelBuilder r(13);
  r.input("x", DataType::kFloat, {2, 3, 4});
  r.initializer_i64("shape", {3}, {0, -1, 2});
  r.node("Reshape", {"x", "shape"}, {"y"}, "r");
  r.output("y");
  expect_close(run_single(r, {{"x", x}}), make_tensor<double>({2, 6, 2}, flat), kTolerance);

  ModelBuilder bad(13);
  bad.input("x", DataType::kFloat, {-1, 3, 4});
  bad.input("shape", DataType::kInt64, {2});
  bad.node("Reshape", {"x", "shape"}, {"y"}, "r");
  bad.output("y");
  auto s = testing::make_session(bad.model());
  ASSERT_TRUE(s.is_ok());
  auto out = (*s)->run({{"x", x}, {"shape", testing::make_tensor<int64_t>({2}, {5, 5})}});
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("cannot reshape [2, 3, 4]"), std::string::npos) << out.status().message();

  ModelBuilder c(13);
  auto& node = c.node("Constant", {}, {"k"}, "const");
  auto* attr = node.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  attr->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  attr->mutable_t()->add_dims(2);
  attr->mutable_t()->add_float_data(3);
  attr->mutable_t()->add_float_data(4);
  c.node("Identity", {"k"}, {"y"}, "id");
  c.output("y");
  expect_close(run_single(c, {}), make_tensor<double>({2}, {3, 4}), kTolerance);
}

}  // namespace
}  // namespace onnx_mini
