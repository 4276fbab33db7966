// Pad against a naive reference: every output element traced back to its
// source along each axis (constant, edge, reflect, wrap), every version's form.
#include <gtest/gtest.h>

#include <random>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Source index along an axis of size n for position j = out - begin; -1 = constant.
int64_t reference_source(int64_t j, int64_t n, const std::string& mode) {
  if (j >= 0 && j < n) return j;
  if (mode == "constant") return -1;
  if (mode == "edge") return j < 0 ? 0 : n - 1;
  if (mode == "wrap") {
    while (j < 0) j += n;
    return j % n;
  }
  if (n == 1) return 0;
  while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;  // reflect about the edge elements
  return j;
}

template <typename T>
std::vector<T> reference_pad(const Tensor& x, const std::vector<int64_t>& begin, const std::vector<int64_t>& end,
                             const std::string& mode, T value, Shape& out_shape) {
  out_shape.clear();
  for (size_t a = 0; a < x.shape().size(); ++a) out_shape.push_back(x.dim(static_cast<int64_t>(a)) + begin[a] + end[a]);
  int64_t total = 1;
  for (int64_t d : out_shape) total *= d;
  std::vector<T> y;
  for (int64_t i = 0; i < total; ++i) {
    auto c = unravel(i, out_shape);
    bool constant = false;
    for (size_t a = 0; a < c.size(); ++a) {
      c[a] = reference_source(c[a] - begin[a], x.shape()[a], mode);
      constant = constant || c[a] < 0;
    }
    y.push_back(constant ? value : x.data<T>()[ravel(c, x.shape())]);
  }
  return y;
}

TEST(Pad, EveryModeAgainstReference) {
  std::mt19937_64 rng(5);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int checked = 0;
  for (int iter = 0; iter < 200; ++iter) {
    const size_t rank = static_cast<size_t>(pick(1, 4));
    Shape shape;
    std::vector<int64_t> begin, end;
    for (size_t a = 0; a < rank; ++a) shape.push_back(pick(1, 5));
    for (size_t a = 0; a < rank; ++a) begin.push_back(pick(-1, 6));
    for (size_t a = 0; a < rank; ++a) end.push_back(pick(-1, 6));
    bool valid = true;
    for (size_t a = 0; a < rank; ++a) valid = valid && shape[a] + begin[a] + end[a] >= 0;
    if (!valid) continue;
    const Tensor x = random_tensor(shape, static_cast<uint64_t>(iter));
    std::vector<int64_t> pads = begin;
    pads.insert(pads.end(), end.begin(), end.end());
    for (const std::string mode : {"constant", "reflect", "edge", "wrap"}) {
      for (bool constant_pads : {false, true}) {
        Shape want_shape;
        const auto want = reference_pad<float>(x, begin, end, mode, 2.5f, want_shape);
        NodeModel m("Pad", 19);
        m.feed(x).attr_string("mode", mode);
        constant_pads ? m.init(ints(pads)) : m.feed(ints(pads));
        m.init(make_tensor<float>({}, {2.5f}));
        auto out = m.run();
        ASSERT_TRUE(out.is_ok()) << mode << ": " << out.status().message();
        ASSERT_EQ(out.value()[0].shape(), want_shape);
        EXPECT_EQ(values_of<float>(out.value()[0]), want) << mode;  // copies: exact
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 800);
}

TEST(Pad, AttributeFormsBeforeOpset11) {
  const Tensor x = random_tensor({2, 3}, 1);
  Shape want_shape;
  const auto want = reference_pad<float>(x, {1, 0}, {0, 2}, "constant", -1.f, want_shape);
  auto v2 = NodeModel("Pad", 2).feed(x).attr_ints("pads", {1, 0, 0, 2}).attr_float("value", -1.f).run();
  auto v1 = NodeModel("Pad", 1).feed(x).attr_ints("paddings", {1, 0, 0, 2}).attr_float("value", -1.f).run();
  ASSERT_TRUE(v1.is_ok() && v2.is_ok()) << v1.status().message() << v2.status().message();
  EXPECT_EQ(values_of<float>(v1.value()[0]), want);
  EXPECT_EQ(values_of<float>(v2.value()[0]), want);
  const auto edge = reference_pad<float>(x, {1, 1}, {1, 1}, "edge", 0.f, want_shape);
  auto e = NodeModel("Pad", 2).feed(x).attr_ints("pads", {1, 1, 1, 1}).attr_string("mode", "edge").run();
  ASSERT_TRUE(e.is_ok());
  EXPECT_EQ(values_of<float>(e.value()[0]), edge);
  EXPECT_FALSE(NodeModel("Pad", 11).feed(x).attr_ints("pads", {1, 0, 0, 2}).run().is_ok());  // an input from 11
}

TEST(Pad, AxesInputFromOpset18) {
  const Tensor x = random_tensor({2, 3, 4}, 2);
  Shape want_shape;
  const auto want = reference_pad<float>(x, {0, 0, 2}, {0, 0, 1}, "reflect", 0.f, want_shape);
  auto out = NodeModel("Pad", 18).feed(x).init(ints({2, 1})).none().init(ints({-1})).attr_string("mode", "reflect").run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), want_shape);
  EXPECT_EQ(values_of<float>(out.value()[0]), want);
  auto both = NodeModel("Pad", 18).feed(x).feed(ints({1, 1, 0, 0})).none().feed(ints({0, 2})).run();
  ASSERT_TRUE(both.is_ok()) << both.status().message();
  EXPECT_EQ(both.value()[0].shape(), (Shape{3, 3, 5}));
  EXPECT_FALSE(NodeModel("Pad", 18).feed(x).init(ints({1, 1})).none().init(ints({0, -3})).run().is_ok());  // twice
  EXPECT_FALSE(NodeModel("Pad", 18).feed(x).init(ints({1, 1})).none().init(ints({3})).run().is_ok());
}

TEST(Pad, IntegerTypesAndConstantValue) {
  const Tensor x = make_tensor<int64_t>({2, 2}, {1, 2, 3, 4});
  Shape want_shape;
  const auto want = reference_pad<int64_t>(x, {1, 0}, {1, 1}, "constant", int64_t{7}, want_shape);
  auto out = NodeModel("Pad", 13).feed(x).init(ints({1, 0, 1, 1})).init(make_tensor<int64_t>({}, {7})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<int64_t>(out.value()[0]), want);
  const Tensor u = make_tensor<uint8_t>({3}, {9, 8, 7});
  auto reflected = NodeModel("Pad", 13).feed(u).init(ints({2, 2})).attr_string("mode", "reflect").run();
  ASSERT_TRUE(reflected.is_ok());
  EXPECT_EQ(values_of<uint8_t>(reflected.value()[0]), (std::vector<uint8_t>{7, 8, 9, 8, 7, 8, 9}));
  auto mismatched = NodeModel("Pad", 13).feed(x).init(ints({1, 0, 1, 1})).init(make_tensor<float>({}, {7.f})).run();
  EXPECT_FALSE(mismatched.is_ok());
}

TEST(Pad, LoadTimeShapesAndErrors) {
  const Tensor x = random_tensor({2, 3}, 3);
  EXPECT_FALSE(NodeModel("Pad", 18).feed(x).init(ints({0, 0, 0, 0})).attr_string("mode", "wrap").run().is_ok());
  auto shrink = NodeModel("Pad", 13).feed(x).init(ints({0, -2, 0, -2})).run();
  ASSERT_FALSE(shrink.is_ok());
  EXPECT_EQ(shrink.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(shrink.status().message().find("input size 3 padded by -2 and -2 gives -1"), std::string::npos)
      << shrink.status().message();
  auto fed = NodeModel("Pad", 13).feed(x).feed(ints({0, -2, 0, -2})).run();
  EXPECT_EQ(fed.status().code(), ErrorCode::kBadInput);
  EXPECT_FALSE(NodeModel("Pad", 13).feed(x).init(ints({1, 1})).run().is_ok());  // 2 pads for rank 2
  auto sym = NodeModel("Pad", 13).input(In::feed_symbolic(x)).init(ints({0, 1, 0, 1})).run();
  ASSERT_TRUE(sym.is_ok()) << sym.status().message();
  EXPECT_EQ(sym.value()[0].shape(), (Shape{2, 5}));
  const Tensor empty = Tensor::allocate(DataType::kFloat, {2, 0});
  EXPECT_FALSE(NodeModel("Pad", 13).feed(empty).init(ints({0, 1, 0, 1})).attr_string("mode", "edge").run().is_ok());
  auto constant = NodeModel("Pad", 13).feed(empty).init(ints({0, 1, 0, 1})).run();
  ASSERT_TRUE(constant.is_ok());
  EXPECT_EQ(values_of<float>(constant.value()[0]), std::vector<float>(4, 0.f));
}

}  // namespace
}  // namespace onnx_mini::testing
