// FusedGemm against a naive double-precision reference: every transpose
// combination, alpha/beta, each bias broadcast, the sgemv path (M = 1), the
// swapped small-batch path (transB = 1, M = 2..64) with every epilogue
// activation, the row-blocked path (output above the cache budget), constant
// and fed weights, and N-D A. Every test runs twice: with the packed kernel
// (ops/packed_gemm.h; constant B on an AVX-512 CPU) and with it turned off
// (ONNX_MINI_PACKED_GEMM=0), so the OpenBLAS paths that other CPUs take stay
// tested on this one.
#include <cmath>
#include <functional>

#include "tests/testutil/graph_builder.h"

namespace onnx_mini::testing {
namespace {

// The parameter: whether the session may use the packed kernel. The variable is
// read when a session is built, so setting it per test is enough.
class FusedGemmKernel : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { setenv("ONNX_MINI_PACKED_GEMM", GetParam() ? "1" : "0", 1); }
  void TearDown() override { unsetenv("ONNX_MINI_PACKED_GEMM"); }
};

struct Case {
  int64_t m, k, n;
  bool ta, tb;
  float alpha, beta;
  std::vector<int64_t> bias_shape;  // empty vector with has_bias false = no C
  bool has_bias;
  bool constant_b;
  // The epilogue: ONNX op name, its activation_* attributes, and its formula in
  // double for the reference.
  std::string activation = "Relu";
  std::vector<std::pair<std::string, float>> params = {};
  std::function<double(double)> act = [](double v) { return v < 0 ? 0 : v; };
};

// Y = act(alpha * op(A) op(B) + beta * C) in double.
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
      y[static_cast<size_t>(i * c.n + j)] = c.act(v);
    }
  }
  return y;
}

void check(const Case& c) {
  SCOPED_TRACE("m=" + std::to_string(c.m) + " k=" + std::to_string(c.k) + " n=" + std::to_string(c.n) +
               " ta=" + std::to_string(c.ta) + " tb=" + std::to_string(c.tb) + " constant_b=" +
               std::to_string(c.constant_b) + " activation=" + c.activation);
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
  std::map<std::string, Attribute> attrs = {
      {"transA", int_attr(c.ta)}, {"transB", int_attr(c.tb)}, {"alpha", float_attr(c.alpha)},
      {"beta", float_attr(c.beta)}, {"activation", string_attr(c.activation)}};
  for (const auto& [name, v] : c.params) attrs["activation_" + name] = float_attr(v);
  gb.node("FusedGemm", ins, {"Y"}, attrs, "fused", kOnnxMiniDomain);
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

TEST_P(FusedGemmKernel, MatchesReferenceAcrossLayoutsAndBiases) {
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

// Every epilogue activation, with non-default parameters where it has any, so a
// parameter lost on the way to the functor shows. Formulas from the ONNX spec.
std::vector<Case> activation_cases() {
  auto with = [](std::string op, std::vector<std::pair<std::string, float>> params,
                 std::function<double(double)> f) {
    Case c{};
    c.activation = std::move(op);
    c.params = std::move(params);
    c.act = std::move(f);
    return c;
  };
  return {
      with("Relu", {}, [](double v) { return v < 0 ? 0 : v; }),
      with("LeakyRelu", {{"alpha", 0.125f}}, [](double v) { return v < 0 ? 0.125 * v : v; }),
      with("Sigmoid", {}, [](double v) { return 1 / (1 + std::exp(-v)); }),
      with("Tanh", {}, [](double v) { return std::tanh(v); }),
      with("Elu", {{"alpha", 0.5f}}, [](double v) { return v < 0 ? 0.5 * std::expm1(v) : v; }),
      with("Selu", {{"alpha", 1.5f}, {"gamma", 1.25f}},
           [](double v) { return v <= 0 ? 1.25 * 1.5 * std::expm1(v) : 1.25 * v; }),
      with("Celu", {{"alpha", 2.0f}}, [](double v) { return v < 0 ? 2.0 * std::expm1(v / 2.0) : v; }),
      with("HardSigmoid", {{"alpha", 0.25f}, {"beta", 0.375f}},
           [](double v) { return std::clamp(0.25 * v + 0.375, 0.0, 1.0); }),
      with("HardSwish", {}, [](double v) { return v * std::clamp(v / 6 + 0.5, 0.0, 1.0); }),
      with("Softplus", {}, [](double v) { return std::log1p(std::exp(v)); }),
      with("Softsign", {}, [](double v) { return v / (1 + std::fabs(v)); }),
      // alpha = 0.3 puts the threshold inside the spread of the outputs.
      with("ThresholdedRelu", {{"alpha", 0.3f}}, [](double v) { return v > 0.3 ? v : 0; }),
  };
}

TEST_P(FusedGemmKernel, SmallBatchesEveryActivationBothWeightLayouts) {
  // M = 2..64 with transB = 1 takes the swapped GEMM (Y^T = W X^T) and its
  // transposing epilogue; transB = 0 the plain sgemm: both against the reference.
  // k = 33 and n = 67 (>= the swap's minimum of 64 outputs) are not multiples of any SIMD width.
  for (const Case& act : activation_cases()) {
    for (bool tb : {false, true}) {
      for (int64_t m : {2, 4, 16, 64}) {
        for (bool constant_b : {false, true}) {
          Case c = act;
          c.m = m, c.k = 33, c.n = 67, c.ta = false, c.tb = tb, c.alpha = 1.0f, c.beta = 1.0f;
          c.bias_shape = {67}, c.has_bias = true, c.constant_b = constant_b;
          check(c);
        }
        // The other bias forms and alpha/beta through the transposing epilogue.
        Case c = act;
        c.m = m, c.k = 33, c.n = 67, c.ta = false, c.tb = tb, c.constant_b = true, c.has_bias = true;
        c.alpha = 0.5f, c.beta = -2.0f, c.bias_shape = {m, 67};
        check(c);
        c.alpha = 1.0f, c.beta = 0.25f, c.bias_shape = {m, 1};
        check(c);
        c.beta = 1.0f, c.bias_shape = {};  // scalar C
        check(c);
        c.has_bias = false;
        check(c);
      }
    }
  }
}

TEST_P(FusedGemmKernel, SwappedPathAtMlpLayerSizes) {
  // The nn.Linear shapes the swapped path exists for, at both ends of its window
  // and just outside it (M = 65; the 256 -> 10 layer is below its 64 outputs).
  for (int64_t m : {2, 16, 64, 65}) {
    check({m, 784, 512, false, true, 1.0f, 1.0f, {512}, true, true});
    check({m, 256, 10, false, true, 1.0f, 1.0f, {10}, true, true});
  }
}

TEST_P(FusedGemmKernel, MlpLayersAtLargerBatches) {
  // Across the packed kernel's tile (12 rows), depth chunk (256: k = 784 is four)
  // and row chunk (256 rows) boundaries, and the narrow last panel (n = 10).
  for (int64_t m : {13, 256, 300}) {
    check({m, 784, 512, false, true, 1.0f, 1.0f, {512}, true, true});
    check({m, 256, 10, false, true, 1.0f, 1.0f, {10}, true, true});
  }
}

TEST_P(FusedGemmKernel, RowBlockedLargeOutput) {
  // 600 x 512 floats is 1.2 MB, above the 512 KiB budget: three row blocks of 256.
  check({600, 16, 512, false, true, 1.0f, 1.0f, {512}, true, true});
  check({600, 16, 512, true, false, 1.0f, 1.0f, {600, 512}, true, false});
}

TEST_P(FusedGemmKernel, EmptyReductionGivesActivationOfBias) {
  check({3, 0, 4, false, false, 1.0f, 1.0f, {4}, true, false});
}

TEST_P(FusedGemmKernel, NdInputFlattensLeadingDims) {
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

TEST_P(FusedGemmKernel, UnknownActivationIsAnError) {
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

INSTANTIATE_TEST_SUITE_P(Paths, FusedGemmKernel, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "packed" : "openblas"; });

}  // namespace
}  // namespace onnx_mini::testing
