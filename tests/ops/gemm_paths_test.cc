// Every BLAS routing of Gemm (GEMV at M = 1, swapped GEMM at small M, plain
// GEMM) against a naive double-precision reference.
#include <cmath>

#include <gtest/gtest.h>

#include "graph/onnx_loader.h"
#include "runtime/session.h"

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

}  // namespace
}  // namespace onnx_mini
