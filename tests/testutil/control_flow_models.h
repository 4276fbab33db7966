// Small If/Loop models built in C++ for the loader, session, concurrency and
// allocation tests, with naive references of what they compute.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "tests/testutil/model_builder.h"

namespace onnx_mini::testing {

inline void set_graph_attr(onnx::NodeProto& n, const std::string& name, const onnx::GraphProto& g) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}

// If(cond): then Y = X + X, else Y = -X; both branches read X from the outer scope.
inline onnx::ModelProto if_model(int opset = 13) {
  ModelBuilder then_b(opset), else_b(opset), m(opset);
  then_b.node("Add", {"X", "X"}, {"then_y"}, "double");
  then_b.output("then_y", DataType::kFloat);
  else_b.node("Neg", {"X"}, {"else_y"}, "negate");
  else_b.output("else_y", DataType::kFloat);
  m.input("cond", DataType::kBool, {}).input("X", DataType::kFloat, {-1});
  auto& n = m.node("If", {"cond"}, {"Y"}, "choose");
  set_graph_attr(n, "then_branch", then_b.model().graph());
  set_graph_attr(n, "else_branch", else_b.model().graph());
  m.output("Y", DataType::kFloat);
  return m.model();
}

// Loop(M, cond, y0): each iteration y = y + X (X from the outer scope), scans
// y * y, and goes on while i < stop (stop from the outer scope).
inline onnx::ModelProto loop_model(int opset = 13) {
  ModelBuilder body(opset), m(opset);
  body.input("i", DataType::kInt64, {}).input("c_in", DataType::kBool, {}).input("y_in", DataType::kFloat, {-1});
  body.node("Add", {"y_in", "X"}, {"y_out"}, "accumulate");
  body.node("Mul", {"y_out", "y_out"}, {"sq"}, "square");
  body.node("Less", {"i", "stop"}, {"c_out"}, "keep_going");
  body.output("c_out", DataType::kBool).output("y_out", DataType::kFloat).output("sq", DataType::kFloat);
  m.input("M", DataType::kInt64, {}).input("cond", DataType::kBool, {}).input("y0", DataType::kFloat, {-1});
  m.input("X", DataType::kFloat, {-1}).input("stop", DataType::kInt64, {});
  auto& n = m.node("Loop", {"M", "cond", "y0"}, {"y_final", "squares"}, "accumulate_loop");
  set_graph_attr(n, "body", body.model().graph());
  m.output("y_final", DataType::kFloat).output("squares", DataType::kFloat);
  return m.model();
}

struct LoopReference {
  std::vector<float> y_final;
  std::vector<std::vector<float>> squares;  // one row per iteration
};

// What loop_model computes, written out naively.
inline LoopReference loop_reference(int64_t m, bool cond, std::vector<float> y, const std::vector<float>& x, int64_t stop) {
  LoopReference r;
  for (int64_t i = 0; i < m && cond; ++i) {
    for (size_t k = 0; k < y.size(); ++k) y[k] += x[k];
    std::vector<float> sq(y.size());
    for (size_t k = 0; k < y.size(); ++k) sq[k] = y[k] * y[k];
    r.squares.push_back(sq);
    cond = i < stop;
  }
  r.y_final = y;
  return r;
}

// If(outer) { Loop(M) { If(i < k) { y + X } else { y - X } } } else { X }:
// the innermost branches read X and the Loop's body reads k, both from the
// main graph, through two (three) levels of subgraphs.
inline onnx::ModelProto nested_model(int opset = 13) {
  ModelBuilder add_b(opset), sub_b(opset), body(opset), then_b(opset), else_b(opset), m(opset);
  add_b.node("Add", {"y_in", "X"}, {"plus"}, "plus_x");
  add_b.output("plus", DataType::kFloat);
  sub_b.node("Sub", {"y_in", "X"}, {"minus"}, "minus_x");
  sub_b.output("minus", DataType::kFloat);
  body.input("i", DataType::kInt64, {}).input("c_in", DataType::kBool, {}).input("y_in", DataType::kFloat, {-1});
  body.node("Less", {"i", "k"}, {"early"}, "is_early");
  auto& inner = body.node("If", {"early"}, {"y_out"}, "inner_if");
  set_graph_attr(inner, "then_branch", add_b.model().graph());
  set_graph_attr(inner, "else_branch", sub_b.model().graph());
  body.node("Identity", {"c_in"}, {"c_out"}, "same_cond");
  body.output("c_out", DataType::kBool).output("y_out", DataType::kFloat);
  auto& loop = then_b.node("Loop", {"M", "", "X"}, {"looped"}, "middle_loop");
  set_graph_attr(loop, "body", body.model().graph());
  then_b.output("looped", DataType::kFloat);
  else_b.node("Identity", {"X"}, {"passed"}, "pass_x");
  else_b.output("passed", DataType::kFloat);
  m.input("outer", DataType::kBool, {}).input("M", DataType::kInt64, {}).input("k", DataType::kInt64, {});
  m.input("X", DataType::kFloat, {-1});
  auto& n = m.node("If", {"outer"}, {"Y"}, "outer_if");
  set_graph_attr(n, "then_branch", then_b.model().graph());
  set_graph_attr(n, "else_branch", else_b.model().graph());
  m.output("Y", DataType::kFloat);
  return m.model();
}

inline std::vector<float> nested_reference(bool outer, int64_t m, int64_t k, const std::vector<float>& x) {
  std::vector<float> y = x;
  if (!outer) return y;
  for (int64_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < y.size(); ++j) y[j] = i < k ? y[j] + x[j] : y[j] - x[j];
  }
  return y;
}

}  // namespace onnx_mini::testing
