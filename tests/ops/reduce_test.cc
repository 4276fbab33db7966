// Reductions against a naive double reference; axes attribute vs input by opset.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "tests/testutil/expect_close.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Naive reference: for each output cell, gather the reduced values and fold.
Tensor reference_reduce(const Tensor& x, std::vector<int64_t> axes, bool keepdims,
                        const std::function<double(const std::vector<double>&)>& f) {
  const Shape& in = x.shape();
  const int64_t rank = static_cast<int64_t>(in.size());
  std::vector<bool> red(in.size(), axes.empty());
  for (int64_t a : axes) red[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  Shape keep;
  for (size_t d = 0; d < in.size(); ++d) keep.push_back(red[d] ? 1 : in[d]);
  std::vector<std::vector<double>> groups(static_cast<size_t>(num_elements(keep)));
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    auto c = unravel(i, in);
    for (size_t d = 0; d < c.size(); ++d) if (red[d]) c[d] = 0;
    groups[static_cast<size_t>(ravel(c, keep))].push_back(x.data<float>()[i]);
  }
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!red[d]) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  Tensor r = Tensor::allocate(DataType::kFloat, out);
  for (size_t g = 0; g < groups.size(); ++g) r.data<float>()[g] = static_cast<float>(f(groups[g]));
  return r;
}

struct R { const char* op; std::function<double(const std::vector<double>&)> f; };

std::vector<R> reductions() {
  auto sum = [](const std::vector<double>& v) { double s = 0; for (double x : v) s += x; return s; };
  return {
      {"ReduceSum", sum},
      {"ReduceMean", [sum](const std::vector<double>& v) { return sum(v) / static_cast<double>(v.size()); }},
      {"ReduceMax", [](const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }},
      {"ReduceMin", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }},
      {"ReduceProd", [](const std::vector<double>& v) { double p = 1; for (double x : v) p *= x; return p; }},
      {"ReduceSumSquare", [](const std::vector<double>& v) { double s = 0; for (double x : v) s += x * x; return s; }},
      {"ReduceL1", [](const std::vector<double>& v) { double s = 0; for (double x : v) s += std::fabs(x); return s; }},
      {"ReduceL2", [](const std::vector<double>& v) { double s = 0; for (double x : v) s += x * x; return std::sqrt(s); }},
      {"ReduceLogSum", [sum](const std::vector<double>& v) { return std::log(sum(v)); }},
      {"ReduceLogSumExp", [](const std::vector<double>& v) { double s = 0; for (double x : v) s += std::exp(x); return std::log(s); }},
  };
}

// Both accumulate in double; only the final rounding to float differs: 1 ulp,
// relative above 1 and absolute below.
constexpr Tolerance kOneUlp = {.rtol = 1.2e-7f, .magnitude_floor = 1};

TEST(Reduce, AttributeFormAgainstReference) {
  Tensor x = random_tensor({2, 3, 4}, 31, 0.5f, 1.5f);
  const std::vector<std::vector<int64_t>> axes_sets = {{}, {0}, {-1}, {0, 2}, {1, -3}};
  for (const R& r : reductions()) {
    for (const auto& axes : axes_sets) {
      for (int keep : {0, 1}) {
        NodeModel m(r.op, 11);
        m.feed(x).attr_int("keepdims", keep);
        if (!axes.empty()) m.attr_ints("axes", axes);
        auto out = m.run();
        ASSERT_TRUE(out.is_ok()) << r.op << ": " << out.status().message();
        expect_close(out.value()[0], reference_reduce(x, axes, keep, r.f), kOneUlp, std::string(r.op) + " keepdims=" + std::to_string(keep));
      }
    }
  }
}

TEST(Reduce, ReduceSumAxesInputFromOpset13) {
  Tensor x = random_tensor({2, 3, 4}, 32, -3.f, 3.f);
  auto out = NodeModel("ReduceSum", 13).feed(x).init(ints({1})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_close(out.value()[0], reference_reduce(x, {1}, false, reductions()[0].f), kOneUlp, "ReduceSum-13");
  // Fed at run time (not constant) gives the same result.
  auto fed = NodeModel("ReduceSum", 13).feed(x).feed(ints({1})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(fed.is_ok()) << fed.status().message();
  expect_close(fed.value()[0], out.value()[0], kOneUlp, "fed axes");
  // The attribute form is rejected at 13.
  EXPECT_FALSE(NodeModel("ReduceSum", 13).feed(x).attr_ints("axes", {1}).run().is_ok());
  // ReduceMean keeps the attribute until 18.
  EXPECT_TRUE(NodeModel("ReduceMean", 17).feed(x).attr_ints("axes", {1}).run().is_ok());
}

// The opset-18 form (axes as an input for every reduction), built through the Graph
// API; tests/runtime/loader_test.cc loads one from a model as well.
TEST(Reduce, Opset18TakesAxesAsInput) {
  const OpDef* d18 = default_registry().find("ReduceMean", kOnnxDomain, 18);
  ASSERT_NE(d18, nullptr);
  EXPECT_EQ(d18->since_version, 18);
  EXPECT_EQ(default_registry().find("ReduceMean", kOnnxDomain, 17)->since_version, 13);
  Graph g;
  g.opset_imports()[""] = 18;
  ValueId x = g.add_value("x");
  g.value(x).is_graph_input = true;
  g.inputs().push_back(x);
  ValueId axes = g.add_value("axes");
  g.value(axes).initializer = ints({-1});
  ValueId y = g.add_value("y");
  g.value(y).is_graph_output = true;
  g.outputs().push_back(y);
  Node n;
  n.name = "r";
  n.op_type = "ReduceMean";
  n.inputs = {x, axes};
  n.outputs = {y};
  n.opset = 18;
  n.def = d18;
  Attribute keep;
  keep.kind = Attribute::Kind::kInt;
  keep.i = 0;
  n.attrs.set("keepdims", keep);
  g.add_node(std::move(n));
  SessionOptions opts;
  opts.opt_level = 0;
  auto session = Session::from_graph(std::move(g), opts);
  ASSERT_TRUE(session.is_ok()) << session.status().message();
  auto out = session.value()->run({{"x", make_tensor<float>({2, 2}, {1, 2, 3, 5})}});
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0].tensor), (std::vector<float>{1.5f, 4.f}));
}

TEST(Reduce, EmptyAxesInputReducesAllOrIsNoop) {
  Tensor x = random_tensor({2, 3}, 33, -3.f, 3.f);
  auto all = NodeModel("ReduceSum", 13).feed(x).none().run();
  ASSERT_TRUE(all.is_ok()) << all.status().message();
  EXPECT_EQ(all.value()[0].shape(), (Shape{1, 1}));
  auto noop = NodeModel("ReduceSum", 13).feed(x).init(Tensor::allocate(DataType::kInt64, {0})).attr_int("noop_with_empty_axes", 1).run();
  ASSERT_TRUE(noop.is_ok()) << noop.status().message();
  EXPECT_EQ(values_of<float>(noop.value()[0]), values_of<float>(x));
}

TEST(Reduce, OutOfRangeAxisIsAnErrorNamingIt) {
  Tensor x = random_tensor({2, 3}, 34, -3.f, 3.f);
  auto out = NodeModel("ReduceSum", 13).feed(x).feed(ints({2})).run();
  ASSERT_FALSE(out.is_ok());
  EXPECT_NE(out.status().message().find("axis 2"), std::string::npos) << out.status().message();
  auto attr = NodeModel("ReduceMax", 11).feed(x).attr_ints("axes", {-3}).run();
  ASSERT_FALSE(attr.is_ok());
}

TEST(Reduce, LogSumExpIsMaxShifted) {
  auto out = NodeModel("ReduceLogSumExp", 13).feed(make_tensor<float>({2}, {1000, 1000})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_NEAR(out.value()[0].data<float>()[0], 1000 + std::log(2.0), 1e-3);  // float spacing at 1000 is 6e-5
}

TEST(Reduce, ZeroSizeReductions) {
  Tensor x = Tensor::allocate(DataType::kFloat, {2, 0});
  auto sum = NodeModel("ReduceSum", 13).feed(x).feed(ints({1})).run();
  ASSERT_TRUE(sum.is_ok()) << sum.status().message();
  EXPECT_EQ(values_of<float>(sum.value()[0]), (std::vector<float>{0, 0}));
  auto prod = NodeModel("ReduceProd", 13).feed(x).attr_ints("axes", {1}).run();
  ASSERT_TRUE(prod.is_ok());
  EXPECT_EQ(values_of<float>(prod.value()[0]), (std::vector<float>{1, 1}));
  auto mx = NodeModel("ReduceMax", 13).feed(x).attr_ints("axes", {1}).run();
  ASSERT_TRUE(mx.is_ok());
  EXPECT_EQ(mx.value()[0].data<float>()[0], -std::numeric_limits<float>::infinity());
}

TEST(Reduce, IntegerSum) {
  auto out = NodeModel("ReduceSum", 13).feed(make_tensor<int64_t>({2, 2}, {1, 2, 3, 4})).feed(ints({0})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(out.is_ok());
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), (std::vector<int64_t>{4, 6}));
}

TEST(ArgReduce, AgainstReferenceWithTies) {
  Tensor x = make_tensor<float>({2, 3}, {1, 5, 5, 7, 2, 7});
  auto first = NodeModel("ArgMax", 13).feed(x).attr_int("axis", -1).attr_int("keepdims", 0).run();
  auto last = NodeModel("ArgMax", 13).feed(x).attr_int("axis", 1).attr_int("keepdims", 1).attr_int("select_last_index", 1).run();
  auto amin = NodeModel("ArgMin", 13).feed(x).attr_int("axis", 0).run();
  ASSERT_TRUE(first.is_ok() && last.is_ok() && amin.is_ok());
  EXPECT_EQ(values_of<int64_t>(first.value()[0]), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(last.value()[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(values_of<int64_t>(last.value()[0]), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values_of<int64_t>(amin.value()[0]), (std::vector<int64_t>{0, 1, 0}));
  // select_last_index does not exist before opset 12.
  EXPECT_FALSE(NodeModel("ArgMax", 11).feed(x).attr_int("select_last_index", 1).run().is_ok());
  // A zero-size axis has no arg-max.
  EXPECT_FALSE(NodeModel("ArgMax", 13).feed(Tensor::allocate(DataType::kFloat, {0, 2})).run().is_ok());
}

// uint64 values above INT64_MAX: the integer accumulator keeps the input's
// signedness (a signed one made 2^63 + 5 negative: ReduceL1 negated it and
// ReduceMean divided it as a negative number).
TEST(Reduce, UInt64AboveInt64MaxStaysUnsigned) {
  const uint64_t big = (uint64_t{1} << 63) + 5;
  Tensor x = make_tensor<uint64_t>({2}, {big, 1});
  auto l1 = NodeModel("ReduceL1", 13).feed(x).attr_int("keepdims", 0).run();
  ASSERT_TRUE(l1.is_ok()) << l1.status().message();
  EXPECT_EQ(l1.value()[0].data<uint64_t>()[0], big + 1);
  auto sum = NodeModel("ReduceSum", 13).feed(x).attr_int("keepdims", 0).run();
  ASSERT_TRUE(sum.is_ok());
  EXPECT_EQ(sum.value()[0].data<uint64_t>()[0], big + 1);
  // (2^63) + (2^63 - 2) = 2^64 - 2 fits uint64; its half is 2^63 - 1.
  auto mean = NodeModel("ReduceMean", 13)
                  .feed(make_tensor<uint64_t>({2}, {uint64_t{1} << 63, (uint64_t{1} << 63) - 2}))
                  .attr_int("keepdims", 0)
                  .run();
  ASSERT_TRUE(mean.is_ok());
  EXPECT_EQ(mean.value()[0].data<uint64_t>()[0], (uint64_t{1} << 63) - 1);
  auto mx = NodeModel("ReduceMax", 13).feed(x).attr_int("keepdims", 0).run();
  ASSERT_TRUE(mx.is_ok());
  EXPECT_EQ(mx.value()[0].data<uint64_t>()[0], big);
  // Signed inputs still take the absolute value.
  auto l1s = NodeModel("ReduceL1", 13).feed(make_tensor<int64_t>({2}, {-3, 4})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(l1s.is_ok());
  EXPECT_EQ(l1s.value()[0].data<int64_t>()[0], 7);
}

// ReduceMax/ReduceMin-20 take bool: any / all (empty: false / true).
TEST(Reduce, MaxMinOfBoolAreAnyAndAll) {
  Tensor x = make_tensor<bool>({2, 3}, {false, true, false, true, true, true});
  auto mx = NodeModel("ReduceMax", 20).feed(x).feed(ints({1})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(mx.is_ok()) << mx.status().message();
  EXPECT_EQ(mx.value()[0].dtype(), DataType::kBool);
  EXPECT_EQ(values_of<bool>(mx.value()[0]), (std::vector<bool>{true, true}));
  auto mn = NodeModel("ReduceMin", 20).feed(x).feed(ints({1})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(mn.is_ok()) << mn.status().message();
  EXPECT_EQ(values_of<bool>(mn.value()[0]), (std::vector<bool>{false, true}));
  Tensor empty = Tensor::allocate(DataType::kBool, {2, 0});
  auto all_of_nothing = NodeModel("ReduceMin", 20).feed(empty).feed(ints({1})).attr_int("keepdims", 0).run();
  ASSERT_TRUE(all_of_nothing.is_ok()) << all_of_nothing.status().message();
  const auto* bytes = static_cast<const uint8_t*>(all_of_nothing.value()[0].raw_data());
  EXPECT_EQ(bytes[0], 1);  // a valid bool true, not the 255 start value
  EXPECT_EQ(bytes[1], 1);
  // Other reductions of bool stay unsupported.
  EXPECT_FALSE(NodeModel("ReduceSum", 20).feed(x).run().is_ok());
}

}  // namespace
}  // namespace onnx_mini::testing
