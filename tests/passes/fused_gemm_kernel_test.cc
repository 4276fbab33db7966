// FusedGemm against a naive double-precision reference: every transpose
// combination, alpha/beta, each bias broadcast, the sgemv path (M = 1), the
// row-blocked path (output above the cache budget), constant and fed weights,
// and N-D A.
#include "tests/passes/pass_test_util.h"

namespace onnx_mini::testing {
namespace {

struct Case {
  int64_t m, k, n;
  bool ta, tb;
  float alpha, beta;
  std::vector<int64_t> bias_shape;  // empty vector with has_bias false = no C
  bool has_bias;
  bool constant_b;
};

// Y = relu(alpha * op(A) op(B) + beta * C) in double.
std::vector<double> reference(const Case& c, const Tensor& a, const Tensor& b, const Tensor* bias) {
  std::vector<double> y(static_cast<size_t>(c.m * c.n));
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        double av = a.data<float>()[c.ta ? p * c.m + i : i * c.k + p];
        double bv = b.data<float>()[c.tb ? j * c.k + p : p * c.n + j];
        acc += av * bv;
      }
      double v = c.alpha * acc;
      if (bias) {
        const Shape& s = bias->shape();
        int64_t cm = s.size() == 2 ? s[0] : 1, cn = s.empty() ? 1 : s.back();
        v += c.beta * bias->data<float>()[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
      }
      y[static_cast<size_t>(i * c.n + j)] = v < 0 ? 0 : v;
    }
  }
  return y;
}

void check(const Case& c) {
  SCOPED_TRACE("m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) +
               " ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " constant_b=" +
               std::to_string(c.constant_b));
  Tensor a = random_tensor(c.ta ? Shape{c.k, c.m} : Shape{c.m, c.k}, 11);
  Tensor b = random_tensor(c.tb ? Shape{c.n, c.k} : Shape{c.k, c.n}, 12);
  Tensor bias = random_tensor(c.bias_shape, 13);
  GraphBuilder gb;
  gb.input("A", DataType::kFloat, a.shape());
  if (c.constant_b) {
    gb.initializer("B", b);
  } else {
    gb.input("B", DataType::kFloat, b.shape());
  }
  std::vector<std::string> ins = {"A", "B"};
  if (c.has_bias) {
    gb.initializer("C", bias);
    ins.push_back("C");
  }
  gb.node("FusedGemm", ins, {"Y"},
          {{"transA", int_attr(c.ta)}, {"transB", int_attr(c.tb)}, {"alpha", float_attr(c.alpha)},
           {"beta", float_attr(c.beta)}, {"activation", string_attr("Relu")}},
          "fused", kOnnxMiniDomain);
  gb.output("Y");
  std::vector<NamedTensor> feeds = {{"A", a}};
  if (!c.constant_b) feeds.push_back({"B", b});
  auto out = run_graph(gb.build(), feeds, 0);
  ASSERT_EQ(out.size(), 1u);
  const Tensor& y = out[0].tensor;
  ASSERT_EQ(y.shape(), (Shape{c.m, c.n}));
  auto want = reference(c, a, b, c.has_bias ? &bias : nullptr);
  for (size_t i = 0; i < want.size(); ++i) {
    // float32 dot products of length k with inputs in [-1, 1): rounding grows like
    // sqrt(k) * 2^-24 * sum|a*b|; 1e-5 * k bounds it with margin for these sizes.
    ASSERT_NEAR(y.data<float>()[i], want[i], 1e-5 * static_cast<double>(c.k) + 1e-6) << "at " << i;
  }
}

TEST(FusedGemmKernel, MatchesReferenceAcrossLayoutsAndBiases) {
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (bool constant_b : {false, true}) {
        for (int64_t m : {1, 5}) {
          check({m, 7, 9, ta, tb, 1.0f, 1.0f, {9}, true, constant_b});
          check({m, 7, 9, ta, tb, 0.5f, -2.0f, {1, 9}, true, constant_b});
          check({m, 7, 9, ta, tb, 1.0f, 0.25f, {m, 9}, true, constant_b});
          check({m, 7, 9, ta, tb, 1.0f, 1.0f, {m, 1}, true, constant_b});
          check({m, 7, 9, ta, tb, 1.5f, 1.0f, {}, true, constant_b});  // scalar C
          check({m, 7, 9, ta, tb, 1.0f, 1.0f, {}, false, constant_b});
        }
      }
    }
  }
}

TEST(FusedGemmKernel, RowBlockedLargeOutput) {
  // 600 x 512 floats is 1.2 MB, above the 512 KiB budget: three row blocks of 256.
  check({600, 16, 512, false, true, 1.0f, 1.0f, {512}, true, true});
  check({600, 16, 512, true, false, 1.0f, 1.0f, {600, 512}, true, false});
}

TEST(FusedGemmKernel, EmptyReductionGivesActivationOfBias) {
  check({3, 0, 4, false, false, 1.0f, 1.0f, {4}, true, false});
}

TEST(FusedGemmKernel, NdInputFlattensLeadingDims) {
  Tensor a = random_tensor({2, 3, 5}, 21);
  Tensor w = random_tensor({5, 4}, 22);
  GraphBuilder gb;
  gb.input("A", DataType::kFloat, {2, 3, 5}).initializer("W", w);
  gb.node("FusedGemm", {"A", "W"}, {"Y"}, {}, "fused", kOnnxMiniDomain);
  gb.output("Y");
  auto out = run_graph(gb.build(), {{"A", a}}, 0);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].tensor.shape(), (Shape{2, 3, 4}));
  for (int64_t r = 0; r < 6; ++r) {
    for (int64_t j = 0; j < 4; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < 5; ++p) acc += double(a.data<float>()[r * 5 + p]) * w.data<float>()[p * 4 + j];
      EXPECT_NEAR(out[0].tensor.data<float>()[r * 4 + j], acc, 1e-5);  // k = 5 float products
    }
  }
}

TEST(FusedGemmKernel, UnknownActivationIsAnError) {
  GraphBuilder gb;
  gb.input("A", DataType::kFloat, {2, 3}).initializer("W", random_tensor({3, 4}, 1));
  gb.node("FusedGemm", {"A", "W"}, {"Y"}, {{"activation", string_attr("Swish")}}, "fused", kOnnxMiniDomain);
  gb.output("Y");
  Graph g = gb.graph();  // inference would already refuse it
  SessionOptions opts;
  opts.opt_level = 0;
  auto s = Session::from_graph(g, opts);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(s.status().message().find("Swish"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace onnx_mini::testing
