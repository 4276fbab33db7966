// Helpers for the pass tests: build small graphs in code, run them with and
// without a pass on seeded random inputs, count ops.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/passes/pass_manager.h"
#include "runtime/session.h"
#include "tests/testutil/attribute_values.h"

namespace onnx_mini::testing {

inline Tensor random_tensor(const Shape& shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t = Tensor::allocate(DataType::kFloat, shape);
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

inline Tensor int64_tensor(const Shape& shape, const std::vector<int64_t>& values) {
  Tensor t = Tensor::allocate(DataType::kInt64, shape);
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return t;
}


// Builds a Graph node by node at a chosen ai.onnx opset.
class GraphBuilder {
 public:
  explicit GraphBuilder(int opset = 17) {
    g_.opset_imports()[""] = opset;
    g_.ir_version = 8;
  }
  GraphBuilder& input(const std::string& name, DataType t, const std::vector<int64_t>& dims) {
    ValueId v = value(name);
    g_.value(v).is_graph_input = true;
    g_.value(v).info = TensorInfo::of(t, dims);
    g_.inputs().push_back(v);
    return *this;
  }
  GraphBuilder& input_symbolic(const std::string& name, const std::vector<Dim>& dims) {
    ValueId v = value(name);
    g_.value(v).is_graph_input = true;
    g_.value(v).info.dtype = DataType::kFloat;
    g_.value(v).info.has_shape = true;
    g_.value(v).info.dims = dims;
    g_.inputs().push_back(v);
    return *this;
  }
  GraphBuilder& initializer(const std::string& name, Tensor t) {
    ValueId v = value(name);
    g_.value(v).info = TensorInfo::of(t.dtype(), t.shape());
    g_.value(v).initializer = std::move(t);
    return *this;
  }
  // Node with explicit outputs; "" for an absent input. Returns the node id.
  NodeId node(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
              std::map<std::string, Attribute> attrs = {}, const std::string& name = "",
              const std::string& domain = "") {
    Node n;
    n.op_type = op;
    n.domain = domain;
    n.name = name.empty() ? outputs[0] + "_node" : name;
    n.opset = domain.empty() ? g_.opset("") : 1;
    n.def = default_registry().find(op, domain, n.opset);
    EXPECT_NE(n.def, nullptr) << op << " is not registered at opset " << n.opset;
    for (auto& [k, a] : attrs) n.attrs.set(k, a);
    for (const auto& in : inputs) n.inputs.push_back(in.empty() ? kNoId : value(in));
    for (const auto& out : outputs) n.outputs.push_back(out.empty() ? kNoId : value(out));
    return g_.add_node(std::move(n));
  }
  GraphBuilder& output(const std::string& name) {
    ValueId v = value(name);
    g_.value(v).is_graph_output = true;
    g_.outputs().push_back(v);
    return *this;
  }
  Graph& graph() { return g_; }
  // Infers shapes; the graph as the loader would hand it over.
  Graph build() {
    Status s = infer_shapes(g_);
    EXPECT_TRUE(s.is_ok()) << s.message();
    s = verify_graph(g_);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return g_;
  }

 private:
  ValueId value(const std::string& name) {
    ValueId v = g_.find_value(name);
    return v != kNoId ? v : g_.add_value(name);
  }
  Graph g_;
};

inline int count_ops(const Graph& g, const std::string& op) {
  int n = 0;
  for (size_t i = 0; i < g.num_node_slots(); ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!node.removed && node.op_type == op) ++n;
  }
  return n;
}

// Runs one pass with verification after it; returns the explain lines.
inline std::vector<std::string> run_pass(Graph& g, std::unique_ptr<Pass> pass) {
  std::vector<std::string> lines;
  PassContext ctx;
  ctx.verify_each = true;
  ctx.log = [&](const std::string& l) { lines.push_back(l); };
  std::vector<std::unique_ptr<Pass>> passes;
  passes.push_back(std::move(pass));
  Status s = run_passes(g, passes, ctx);
  EXPECT_TRUE(s.is_ok()) << s.message();
  return lines;
}

// Runs the graph through a Session at an optimisation level (0: as built).
inline std::vector<NamedTensor> run_graph(const Graph& g, const std::vector<NamedTensor>& inputs, int opt_level) {
  SessionOptions opts;
  opts.opt_level = opt_level;
  opts.verify_passes = true;
  auto session = Session::from_graph(g, opts);
  EXPECT_TRUE(session.is_ok()) << session.status().message();
  if (!session.is_ok()) return {};
  auto out = session.value()->run(inputs);
  EXPECT_TRUE(out.is_ok()) << out.status().message();
  return out.is_ok() ? out.value() : std::vector<NamedTensor>{};
}

// |a - b| <= atol + rtol * |b| elementwise; NaN matches NaN and Inf must match exactly.
inline void expect_close(const Tensor& got, const Tensor& want, double atol, double rtol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  if (got.dtype() != DataType::kFloat) {
    ASSERT_EQ(0, std::memcmp(got.raw_data(), want.raw_data(), got.byte_size())) << what;
    return;
  }
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    double a = got.data<float>()[i], b = want.data<float>()[i];
    if (std::isnan(b) || std::isinf(b)) {
      EXPECT_TRUE(std::isnan(b) ? std::isnan(a) : a == b) << what << " [" << i << "] got " << a << " want " << b;
      continue;
    }
    EXPECT_LE(std::abs(a - b), atol + rtol * std::abs(b)) << what << " [" << i << "] got " << a << " want " << b;
  }
}

// The graph gives the same outputs with all passes (opt level 1) as without.
// Float32 tolerance: the fused kernels round differently (one BLAS call with
// beta = 0 then bias in the epilogue, vs bias inside BLAS), a few ulps per dot product.
inline void expect_same_with_and_without_passes(const Graph& g, const std::vector<NamedTensor>& inputs,
                                                double atol = 1e-5, double rtol = 1e-4) {
  auto ref = run_graph(g, inputs, 0);
  auto opt = run_graph(g, inputs, 1);
  ASSERT_EQ(ref.size(), opt.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(ref[i].name, opt[i].name);
    expect_close(opt[i].tensor, ref[i].tensor, atol, rtol, ref[i].name);
  }
}

}  // namespace onnx_mini::testing
