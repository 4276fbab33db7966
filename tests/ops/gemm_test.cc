// Gemm and MatMul (ops/gemm.cc) through the loader and a Session, against naive
// double-precision references on seeded random inputs.
//
// Tolerance: float32 kernels vs a float64 reference. For a dot product of length K
// with inputs in [-1, 1) the float32 rounding error is bounded by about
// K * 2^-24 * sum|a_i b_i| <= K^2 * 6e-8; for the sizes used here (K <= 64) we use
// atol 1e-4 + rtol 1e-5, which is above that bound and far below any real bug.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

constexpr Tolerance kTolerance = {.atol = 1e-4, .rtol = 1e-5};

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
  NodeModel gemm("Gemm", 13);
  gemm.feed(a).feed(b);
  if (p.has_c) gemm.feed(c);
  gemm.attr_int("transA", p.ta).attr_int("transB", p.tb).attr_float("alpha", p.alpha).attr_float("beta", p.beta);
  auto out = gemm.run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  std::vector<double> want = gemm_ref(a, b, p.has_c ? &c : nullptr, p.ta, p.tb, p.alpha, p.beta, p.m, p.n, p.k);
  expect_close(out.value()[0], make_tensor<double>({p.m, p.n}, want), kTolerance);
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
  // Symbolic dims: nothing is known at load time, so the kernel must catch it.
  auto out = NodeModel("Gemm", 13)
                 .input(In::feed_symbolic(random_tensor({2, 3}, 1)))
                 .input(In::feed_symbolic(random_tensor({4, 5}, 2)))
                 .run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(out.status().message().find("node 'n' (Gemm)"), std::string::npos) << out.status().message();
  EXPECT_NE(out.status().message().find("inner dimensions differ"), std::string::npos);
}

struct MatMulCase {
  Shape a, b, y;
};

// Naive MatMul in double with numpy semantics: 1-D operands promoted, batch dims
// broadcast by index arithmetic.
std::vector<double> matmul_ref(const Tensor& a, const Tensor& b) {
  Shape as = a.shape(), bs = b.shape();
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  int64_t m = as[as.size() - 2], k = as.back(), n = bs.back();
  Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  size_t rank = std::max(ab.size(), bb.size());
  while (ab.size() < rank) ab.insert(ab.begin(), 1);
  while (bb.size() < rank) bb.insert(bb.begin(), 1);
  Shape batch(rank);
  for (size_t i = 0; i < rank; ++i) batch[i] = std::max(ab[i], bb[i]);
  std::vector<double> ref;
  for (int64_t bi = 0; bi < num_elements(batch); ++bi) {
    const std::vector<int64_t> coord = unravel(bi, batch);
    const int64_t oa = broadcast_source(coord, ab, batch), ob = broadcast_source(coord, bb, batch);
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
  return ref;
}

class MatMulTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulTest, MatchesReferenceWithNumpySemantics) {
  const MatMulCase& p = GetParam();
  Tensor a = random_tensor(p.a, 4), b = random_tensor(p.b, 5);
  auto out = NodeModel("MatMul", 13).feed(a).feed(b).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_close(out.value()[0], make_tensor<double>(p.y, matmul_ref(a, b)), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatMulTest,
                         ::testing::Values(MatMulCase{{3, 4}, {4, 5}, {3, 5}}, MatMulCase{{4}, {4, 5}, {5}},
                                           MatMulCase{{3, 4}, {4}, {3}}, MatMulCase{{4}, {4}, {}},
                                           MatMulCase{{2, 3, 4}, {4, 5}, {2, 3, 5}},
                                           MatMulCase{{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},
                                           MatMulCase{{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}},
                                           MatMulCase{{1, 6}, {6, 1}, {1, 1}}),
                         [](const auto& info) { return "case" + std::to_string(info.index); });

}  // namespace
}  // namespace onnx_mini::testing
