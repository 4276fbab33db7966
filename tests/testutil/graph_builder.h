// Helpers for the pass tests: build small graphs in code, run them with and
// without a pass on seeded random inputs, count ops.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "graph/ir.h"
#include "graph/passes/pass_manager.h"
#include "runtime/session.h"
#include "tests/testutil/attribute_values.h"
#include "tests/testutil/expect_close.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {

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

// The graph gives the same outputs with all passes (opt level 1) as without.
// Float32 tolerance: the fused kernels round differently (one BLAS call with
// beta = 0 then bias in the epilogue, vs bias inside BLAS), a few ulps per dot product.
inline void expect_same_with_and_without_passes(const Graph& g, const std::vector<NamedTensor>& inputs,
                                                const Tolerance& tol = {.atol = 1e-5, .rtol = 1e-4}) {
  auto ref = run_graph(g, inputs, 0);
  auto opt = run_graph(g, inputs, 1);
  ASSERT_EQ(ref.size(), opt.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(ref[i].name, opt[i].name);
    expect_close(opt[i].tensor, ref[i].tensor, tol, ref[i].name);
  }
}

}  // namespace onnx_mini::testing
