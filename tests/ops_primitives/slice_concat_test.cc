// Slice (attribute form before 10, inputs after), Concat, Split.
#include <gtest/gtest.h>

#include <limits>

#include "tests/ops_primitives/node_runner.h"

namespace onnx_mini::testing {
namespace {

// Python-style slice indices of one axis (reference).
std::vector<int64_t> py_slice(int64_t dim, int64_t start, int64_t end, int64_t step) {
  auto norm = [dim](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v += dim;
    return std::clamp(v, lo, hi);
  };
  std::vector<int64_t> out;
  if (step > 0) {
    for (int64_t i = norm(start, 0, dim), e = norm(end, 0, dim); i < e; i += step) out.push_back(i);
  } else if (dim > 0) {
    for (int64_t i = norm(start, -1, dim - 1), e = norm(end, -1, dim - 1); i > e; i += step) out.push_back(i);
  }
  return out;
}

TEST(Slice, AgainstReference) {
  Tensor x = random_float({5, 6}, 61);
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  struct C { int64_t s, e, st; };
  for (const C& c : {C{0, 3, 1}, C{1, -1, 2}, C{-2, big, 1}, C{4, small, -1}, C{big, 0, -2}, C{3, 3, 1}, C{-100, 100, 3}, C{5, -7, -1}}) {
    auto out = NodeModel("Slice", 13).feed(x).feed(ints({c.s})).feed(ints({c.e})).feed(ints({-1})).feed(ints({c.st})).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    std::vector<int64_t> cols = py_slice(6, c.s, c.e, c.st);
    ASSERT_EQ(out.value()[0].shape(), (Shape{5, static_cast<int64_t>(cols.size())})) << c.s << ":" << c.e << ":" << c.st;
    for (int64_t r = 0; r < 5; ++r) {
      for (size_t j = 0; j < cols.size(); ++j) {
        EXPECT_EQ(out.value()[0].data<float>()[r * static_cast<int64_t>(cols.size()) + static_cast<int64_t>(j)], x.data<float>()[r * 6 + cols[j]]);
      }
    }
  }
}

TEST(Slice, AttributeFormBeforeOpset10) {
  Tensor x = random_float({4, 3}, 62);
  auto out = NodeModel("Slice", 9).feed(x).attr_ints("starts", {1}).attr_ints("ends", {3}).attr_ints("axes", {0}).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(out.value()[0].data<float>()[0], x.data<float>()[3]);
  EXPECT_FALSE(NodeModel("Slice", 10).feed(x).attr_ints("starts", {1}).attr_ints("ends", {3}).run().is_ok());
}

TEST(Slice, BadArgumentsAreErrors) {
  Tensor x = random_float({4, 3}, 63);
  auto zero = NodeModel("Slice", 13).feed(x).feed(ints({0})).feed(ints({2})).feed(ints({0})).feed(ints({0})).run();
  ASSERT_FALSE(zero.is_ok());
  EXPECT_NE(zero.status().message().find("step 0"), std::string::npos);
  auto axis = NodeModel("Slice", 13).feed(x).feed(ints({0})).feed(ints({2})).feed(ints({2})).run();
  ASSERT_FALSE(axis.is_ok());
  EXPECT_NE(axis.status().message().find("axis 2"), std::string::npos);
  EXPECT_FALSE(NodeModel("Slice", 13).feed(x).feed(ints({0, 1})).feed(ints({2})).run().is_ok());
}

TEST(Concat, AgainstReferenceWithEmptyInput) {
  Tensor a = random_float({2, 3}, 64), b = Tensor::allocate(DataType::kFloat, {2, 0}), c = random_float({2, 1}, 65);
  auto out = NodeModel("Concat", 13).feed(a).feed(b).feed(c).attr_int("axis", -1).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(out.value()[0].shape(), (Shape{2, 4}));
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(out.value()[0].data<float>()[r * 4 + j], a.data<float>()[r * 3 + j]);
    EXPECT_EQ(out.value()[0].data<float>()[r * 4 + 3], c.data<float>()[r]);
  }
  EXPECT_FALSE(NodeModel("Concat", 13).feed(a).feed(random_float({3, 3}, 66)).attr_int("axis", 1).run().is_ok());
  EXPECT_FALSE(NodeModel("Concat", 13).feed(a).attr_int("axis", 2).run().is_ok());
}

TEST(Split, AttributeBefore13InputAfterAndEqualParts) {
  Tensor x = random_float({2, 6}, 67);
  auto attr = NodeModel("Split", 11).feed(x).attr_int("axis", 1).attr_ints("split", {1, 5}).outputs(2).run();
  ASSERT_TRUE(attr.is_ok()) << attr.status().message();
  EXPECT_EQ(attr.value()[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(attr.value()[1].shape(), (Shape{2, 5}));
  EXPECT_EQ(attr.value()[1].data<float>()[5], x.data<float>()[7]);
  auto input = NodeModel("Split", 13).feed(x).feed(ints({4, 2})).attr_int("axis", -1).outputs(2).run();
  ASSERT_TRUE(input.is_ok()) << input.status().message();
  EXPECT_EQ(input.value()[1].shape(), (Shape{2, 2}));
  EXPECT_EQ(input.value()[1].data<float>()[0], x.data<float>()[4]);
  auto equal = NodeModel("Split", 13).feed(x).attr_int("axis", 1).outputs(3).run();
  ASSERT_TRUE(equal.is_ok());
  EXPECT_EQ(equal.value()[2].shape(), (Shape{2, 2}));
  EXPECT_FALSE(NodeModel("Split", 13).feed(x).attr_int("axis", 1).outputs(4).run().is_ok());  // 6 % 4 != 0
  EXPECT_FALSE(NodeModel("Split", 13).feed(x).feed(ints({4, 3})).attr_int("axis", 1).outputs(2).run().is_ok());
  EXPECT_FALSE(NodeModel("Split", 13).feed(x).attr_ints("split", {3, 3}).outputs(2).run().is_ok());  // attr gone
}

}  // namespace
}  // namespace onnx_mini::testing
