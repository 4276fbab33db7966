// The one float GEMM (ops/float_gemm.h) through each of its paths: every BLAS
// routing of Gemm (GEMV at M = 1, swapped GEMM at small M, blocked GEMM)
// against a naive double-precision reference; Gemm, MatMul and FusedGemm
// giving the same bits at -O0 (the model's Gemm / MatMul) and -O1 (lowered to
// FusedGemm) on every path, with the packed kernel and without; which path a
// kernel takes, including the packed one for a weight above the old 16 MiB cap.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "ops/float_gemm.h"
#include "runtime/session.h"
#include "tests/testutil/graph_builder.h"

namespace onnx_mini {
namespace {

struct Case {
  int64_t m, k, n;
  bool trans_b;
  std::vector<int64_t> c_dims;  // empty: no C
  float alpha, beta;
};

onnx::ModelProto gemm_model(const Case& c) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  auto& g = *model.mutable_graph();
  auto add_input = [&](const std::string& name, std::vector<int64_t> dims) {
    auto* v = g.add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  };
  add_input("A", {c.m, c.k});
  add_input("B", c.trans_b ? std::vector<int64_t>{c.n, c.k} : std::vector<int64_t>{c.k, c.n});
  auto* node = g.add_node();
  node->set_op_type("Gemm");
  node->set_name("gemm");
  node->add_input("A");
  node->add_input("B");
  if (!c.c_dims.empty()) {
    add_input("C", c.c_dims);
    node->add_input("C");
  }
  node->add_output("Y");
  auto attr = [&](const char* name, float f) {
    auto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(f);
  };
  attr("alpha", c.alpha);
  attr("beta", c.beta);
  auto* tb = node->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(c.trans_b ? 1 : 0);
  auto* y = g.add_output();
  y->set_name("Y");
  y->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  return model;
}

Tensor seeded(std::vector<int64_t> dims, uint32_t seed) {
  Tensor t = Tensor::allocate(DataType::kFloat, dims);
  uint32_t s = seed;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    s = s * 1664525u + 1013904223u;  // Numerical Recipes LCG: fixed, portable
    t.data<float>()[i] = static_cast<float>(s >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return t;
}

TEST(GemmPaths, MatchNaiveReference) {
  std::vector<Case> cases;
  for (int64_t m : {1, 3, 4, 16, 64, 65}) {
    cases.push_back({m, 37, 29, true, {29}, 1.0f, 1.0f});     // torch Linear: bias [N]
    cases.push_back({m, 37, 29, true, {m, 29}, 0.5f, 2.0f});  // full C, alpha/beta
    cases.push_back({m, 37, 29, true, {}, 1.5f, 1.0f});       // no C
    cases.push_back({m, 37, 29, false, {m, 1}, 1.0f, -1.0f}); // column C, weight [K, N]
  }
  for (const Case& c : cases) {
    SCOPED_TRACE("m=" + std::to_string(c.m) + " transB=" + std::to_string(c.trans_b) + " C rank " +
                 std::to_string(c.c_dims.size()));
    onnx::ModelProto model = gemm_model(c);
    auto graph = graph_from_model(model, "");
    ASSERT_TRUE(graph.is_ok()) << graph.status().message();
    auto session = Session::from_graph(std::move(graph).value());
    ASSERT_TRUE(session.is_ok()) << session.status().message();
    Tensor a = seeded({c.m, c.k}, 1), b = seeded(c.trans_b ? std::vector<int64_t>{c.n, c.k} : std::vector<int64_t>{c.k, c.n}, 2);
    std::vector<NamedTensor> inputs{{"A", a}, {"B", b}};
    Tensor cm;
    if (!c.c_dims.empty()) {
      cm = seeded(c.c_dims, 3);
      inputs.push_back({"C", cm});
    }
    std::vector<Tensor> outputs;
    // Twice: the second run reuses buffers (and the swapped path's scratch).
    for (int run = 0; run < 2; ++run) ASSERT_TRUE((*session)->run(inputs, outputs).is_ok());
    const float* y = outputs[0].data<float>();
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < c.k; ++p) {
          double w = c.trans_b ? b.data<float>()[j * c.k + p] : b.data<float>()[p * c.n + j];
          acc += static_cast<double>(a.data<float>()[i * c.k + p]) * w;
        }
        double expect = c.alpha * acc;
        if (!c.c_dims.empty()) {
          int64_t ci = c.c_dims.size() == 2 && c.c_dims[0] != 1 ? i : 0;
          int64_t cj = c.c_dims.back() == 1 ? 0 : j;
          expect += c.beta * cm.data<float>()[ci * (c.c_dims.back()) + cj];
        }
        // float32 GEMM over k = 37 products of values in [-1, 1): BLAS reorders
        // the sums, so allow 1e-5 absolute + 1e-4 relative (ORT's float tolerances).
        EXPECT_NEAR(y[i * c.n + j], expect, 1e-5 + 1e-4 * std::fabs(expect)) << "at " << i << "," << j;
      }
    }
  }
}

// ---- -O0 next to -O1 -------------------------------------------------------

// The parameter: whether sessions may use the packed kernel (read at build).
class OneGemmAtBothLevels : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { setenv("ONNX_MINI_PACKED_GEMM", GetParam() ? "1" : "0", 1); }
  void TearDown() override { unsetenv("ONNX_MINI_PACKED_GEMM"); }
};

struct LevelCase {
  std::string label;
  std::string op;  // Gemm or MatMul
  Shape a, b;
  std::vector<int64_t> c;  // Gemm's C; empty: none
  bool trans_a = false, trans_b = false;
  float alpha = 1, beta = 1;
  bool constant_b = true;
  bool relu = false;  // a Relu after the node (fused into FusedGemm at -O1)
};

Graph level_graph(const LevelCase& c, const Tensor& b, const Tensor& bias) {
  using testing::float_attr;
  using testing::int_attr;
  testing::GraphBuilder gb(13);
  gb.input("A", DataType::kFloat, c.a);
  if (c.constant_b) {
    gb.initializer("B", b);
  } else {
    gb.input("B", DataType::kFloat, c.b);
  }
  std::vector<std::string> ins = {"A", "B"};
  std::map<std::string, Attribute> attrs;
  if (c.op == "Gemm") {
    attrs = {{"transA", int_attr(c.trans_a)}, {"transB", int_attr(c.trans_b)}, {"alpha", float_attr(c.alpha)},
             {"beta", float_attr(c.beta)}};
    if (!c.c.empty()) {
      gb.initializer("C", bias);
      ins.push_back("C");
    }
  }
  const std::string y = c.relu ? "Z" : "Y";
  gb.node(c.op, ins, {y}, attrs, "layer");
  if (c.relu) gb.node("Relu", {"Z"}, {"Y"}, {}, "layer/relu");
  gb.output("Y");
  return gb.build();
}

Tensor run_level(const Graph& g, const std::vector<NamedTensor>& feeds, int level, int* fused_gemms) {
  SessionOptions opts;
  opts.opt_level = level;
  opts.threads = 2;  // the blocked path splits rows over the pool: both levels alike
  auto s = Session::from_graph(g, opts);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  if (!s.is_ok()) return Tensor();
  *fused_gemms = testing::count_ops((*s)->graph(), "FusedGemm");
  auto out = (*s)->run(feeds);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  return out.is_ok() ? out.value()[0].tensor : Tensor();
}

// Bit for bit, no tolerance: both levels run the same float GEMM, which picks
// the same path for the same shapes, and the fused Relu (x < 0 ? 0 : x) is
// exact wherever it is applied.
void expect_same_bits_at_both_levels(const LevelCase& c) {
  SCOPED_TRACE(c.label);
  Tensor a = testing::random_tensor(c.a, 31), b = testing::random_tensor(c.b, 32);
  Tensor bias = testing::random_tensor(c.c.empty() ? Shape{1} : Shape(c.c.begin(), c.c.end()), 33);
  const Graph g = level_graph(c, b, bias);
  std::vector<NamedTensor> feeds = {{"A", a}};
  if (!c.constant_b) feeds.push_back({"B", b});
  int fused_o0 = 0, fused_o1 = 0;
  const Tensor y0 = run_level(g, feeds, 0, &fused_o0);
  const Tensor y1 = run_level(g, feeds, 1, &fused_o1);
  ASSERT_TRUE(y0.defined() && y1.defined());
  EXPECT_EQ(fused_o0, 0);
  EXPECT_EQ(fused_o1, c.constant_b ? 1 : 0) << "-O1 lowers a node with a constant weight to FusedGemm";
  ASSERT_EQ(y0.shape(), y1.shape());
  ASSERT_EQ(std::memcmp(y0.raw_data(), y1.raw_data(), y0.byte_size()), 0) << "-O0 and -O1 differ";
}

TEST_P(OneGemmAtBothLevels, GemmOnEveryPath) {
  const int64_t k = 37, n = 70;  // n >= 64: inside the swapped window
  for (int64_t m : {1, 2, 16, 64, 65, 300}) {
    const std::string at = " m=" + std::to_string(m);
    expect_same_bits_at_both_levels({"linear" + at, "Gemm", {m, k}, {n, k}, {n}, false, true});
    expect_same_bits_at_both_levels({"linear+relu" + at, "Gemm", {m, k}, {n, k}, {n}, false, true, 1, 1, true, true});
    expect_same_bits_at_both_levels({"[K,N] full C alpha beta" + at, "Gemm", {m, k}, {k, n}, {m, n}, false, false,
                                     0.5f, 2.0f});
    expect_same_bits_at_both_levels({"column C" + at, "Gemm", {m, k}, {k, n}, {m, 1}, false, false, 1, -1});
    expect_same_bits_at_both_levels({"no C, beta 0" + at, "Gemm", {m, k}, {n, k}, {}, false, true, 1.5f, 0});
    expect_same_bits_at_both_levels({"transA" + at, "Gemm", {k, m}, {n, k}, {n}, true, true});
    expect_same_bits_at_both_levels({"transA [K,N]" + at, "Gemm", {k, m}, {k, n}, {1, n}, true, false});
    expect_same_bits_at_both_levels({"fed B" + at, "Gemm", {m, k}, {n, k}, {n}, false, true, 1, 1, false});
    expect_same_bits_at_both_levels({"matmul" + at, "MatMul", {m, k}, {k, n}, {}});
    expect_same_bits_at_both_levels({"matmul+relu" + at, "MatMul", {m, k}, {k, n}, {}, false, false, 1, 1, true, true});
  }
  expect_same_bits_at_both_levels({"matmul 3-D A", "MatMul", {2, 5, k}, {k, n}, {}});
  expect_same_bits_at_both_levels({"empty reduction", "Gemm", {3, 0}, {0, 4}, {4}});
}

// A weight just above the old 16 MiB packing cap (1025 x 4096 floats = 16.02
// MiB), which used to fall back to OpenBLAS at -O1 and at -O0 alike.
TEST_P(OneGemmAtBothLevels, WeightAboveTheOld16MiBCap) {
  const int64_t k = 4096, n = 1025;
  for (int64_t m : {1, 20}) {
    expect_same_bits_at_both_levels({"above cap m=" + std::to_string(m), "Gemm", {m, k}, {n, k}, {n}, false, true});
  }
  expect_same_bits_at_both_levels({"below cap", "Gemm", {20, 1024}, {1023, 1024}, {1023}, false, true});
}

// MatMul [K] x [K, N] -> [N] against a constant weight: the packed path with
// one row and the promoted row dropped from the output (never lowered: FusedGemm
// has no 1-D form).
TEST_P(OneGemmAtBothLevels, MatMulWithAVectorA) {
  const int64_t k = 37, n = 70;
  Tensor a = testing::random_tensor({k}, 41), b = testing::random_tensor({k, n}, 42);
  testing::GraphBuilder gb(13);
  gb.input("A", DataType::kFloat, {k}).initializer("B", b);
  gb.node("MatMul", {"A", "B"}, {"Y"}, {}, "mm");
  gb.output("Y");
  const Graph g = gb.build();
  for (int level : {0, 1}) {
    int fused = 0;
    const Tensor y = run_level(g, {{"A", a}}, level, &fused);
    ASSERT_EQ(y.shape(), (Shape{n}));
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p) acc += double(a.data<float>()[p]) * b.data<float>()[p * n + j];
      // k = 37 float products of values in [-1, 1): 1e-5 bounds the rounding.
      EXPECT_NEAR(y.data<float>()[j], acc, 1e-5) << "level " << level << " at " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, OneGemmAtBothLevels, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "packed" : "openblas"; });

// ---- which path ------------------------------------------------------------

struct BuiltGemm {
  TensorInfo a_info, b_info;
  Tensor weight;
  Attributes attrs;
  FloatGemm gemm;
};

// A FloatGemm built outside a session for A [m, k] against a constant
// [n, k] weight (transB = 1), as a Gemm node would be.
std::unique_ptr<BuiltGemm> build_gemm(int64_t k, int64_t n, bool trans_a = false) {
  auto g = std::make_unique<BuiltGemm>();
  g->weight = Tensor::allocate(DataType::kFloat, Shape{n, k});
  g->b_info = TensorInfo::of(DataType::kFloat, {n, k});
  g->b_info.constant = &g->weight;
  g->a_info = TensorInfo::of(DataType::kFloat, trans_a ? std::vector<int64_t>{k, 1} : std::vector<int64_t>{1, k});
  GemmAttributes attrs;
  attrs.trans_a = trans_a;
  attrs.trans_b = true;
  NodeInfo node;
  node.op_type = "Gemm";
  node.attributes = &g->attrs;
  node.inputs = {&g->a_info, &g->b_info};
  node.num_outputs = 1;
  auto identity = make_epilogue<IdentityFn>(Attributes{});
  EXPECT_TRUE(identity.is_ok());
  EXPECT_TRUE(g->gemm.init(node, attrs, kMatrixA, std::move(identity).value()).is_ok());
  return g;
}

TEST(GemmPathChoice, ConstantWeightAboveTheOld16MiBCapTakesThePackedPath) {
  if (!PackedWeights::supported()) GTEST_SKIP() << "this CPU has no AVX-512F: the packed kernel never runs here";
  unsetenv("ONNX_MINI_PACKED_GEMM");
  auto g = build_gemm(4096, 1025);  // 16.02 MiB
  ASSERT_TRUE(g->gemm.packed());
  for (int64_t m : {1, 16, 256}) EXPECT_EQ(g->gemm.path(m, 1025, 4096), GemmPath::kPacked) << "m=" << m;
  EXPECT_EQ(g->gemm.path(0, 1025, 4096), GemmPath::kEmptyOutput);
}

TEST(GemmPathChoice, OpenBlasPathsWhenNotPacked) {
  setenv("ONNX_MINI_PACKED_GEMM", "0", 1);
  auto g = build_gemm(784, 512);
  unsetenv("ONNX_MINI_PACKED_GEMM");
  ASSERT_FALSE(g->gemm.packed());
  EXPECT_EQ(g->gemm.path(1, 512, 784), GemmPath::kGemv);
  EXPECT_EQ(g->gemm.path(2, 512, 784), GemmPath::kSwapped);
  EXPECT_EQ(g->gemm.path(64, 512, 784), GemmPath::kSwapped);
  EXPECT_EQ(g->gemm.path(65, 512, 784), GemmPath::kBlocked);
  EXPECT_EQ(g->gemm.path(16, 10, 784), GemmPath::kBlocked) << "narrow outputs stay unswapped";
  EXPECT_EQ(g->gemm.path(16, 512, 0), GemmPath::kEmptyReduction);
}

TEST(GemmPathChoice, TransposedAIsNeverPacked) {
  auto g = build_gemm(64, 64, /*trans_a=*/true);
  EXPECT_FALSE(g->gemm.packed());
  EXPECT_EQ(g->gemm.path(16, 64, 64), GemmPath::kBlocked);
}

}  // namespace
}  // namespace onnx_mini
