// TopK against a naive selection (k scans for the best element not yet taken):
// every axis, both directions, ties, NaN, the dtypes, the three versions, and
// every error on k.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/half.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Ranks NaN above every number, equal values by the lower index (see ops/topk.cc).
bool better(double a, int64_t ia, double b, int64_t ib, bool largest) {
  const bool an = std::isnan(a), bn = std::isnan(b);
  if (an != bn) return largest ? an : bn;
  if (!an && a != b) return largest ? a > b : a < b;
  return ia < ib;
}

struct TopKRef {
  std::vector<double> values;
  std::vector<int64_t> indices;
};

// O(n k) per row: k times, the best element not yet taken.
TopKRef reference(const std::vector<double>& x, const Shape& shape, int64_t axis, int64_t k, bool largest) {
  int64_t outer = 1, n = shape[static_cast<size_t>(axis)], inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
  TopKRef r;
  r.values.resize(static_cast<size_t>(outer * k * inner));
  r.indices.resize(r.values.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      std::vector<bool> taken(static_cast<size_t>(n), false);
      for (int64_t t = 0; t < k; ++t) {
        int64_t best = -1;
        for (int64_t i = 0; i < n; ++i) {
          if (taken[static_cast<size_t>(i)]) continue;
          const double v = x[static_cast<size_t>((o * n + i) * inner + j)];
          if (best < 0 || better(v, i, x[static_cast<size_t>((o * n + best) * inner + j)], best, largest)) best = i;
        }
        taken[static_cast<size_t>(best)] = true;
        const auto at = static_cast<size_t>((o * k + t) * inner + j);
        r.values[at] = x[static_cast<size_t>((o * n + best) * inner + j)];
        r.indices[at] = best;
      }
    }
  }
  return r;
}

// Values on a coarse grid so rows hold ties, with a NaN every 13th element.
Tensor tied_values(const Shape& shape, uint64_t seed, bool with_nan) {
  Tensor t = random_tensor(shape, seed, -4.f, 4.f);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    p[i] = std::round(p[i] * 2) / 2;
    if (with_nan && i % 13 == 5) p[i] = std::numeric_limits<float>::quiet_NaN();
  }
  return t;
}

void expect_matches(const std::vector<Tensor>& out, const TopKRef& ref, const std::string& what) {
  ASSERT_EQ(out.size(), 2u);
  const float* v = out[0].data<float>();
  ASSERT_EQ(out[0].num_elements(), static_cast<int64_t>(ref.values.size())) << what;
  for (size_t i = 0; i < ref.values.size(); ++i) {
    // Selected, not computed: each value is exactly an input element (NaN where NaN).
    if (std::isnan(ref.values[i])) EXPECT_TRUE(std::isnan(v[i])) << what << " at " << i;
    else EXPECT_EQ(v[i], static_cast<float>(ref.values[i])) << what << " at " << i;
  }
  EXPECT_EQ(values_of<int64_t>(out[1]), ref.indices) << what;
}

TEST(TopK, EveryAxisBothDirectionsWithTiesAndNaN) {
  const Shape shape = {3, 5, 4};
  for (bool with_nan : {false, true}) {
    const Tensor x = tied_values(shape, with_nan ? 7 : 3, with_nan);
    const std::vector<float> xf = values_of<float>(x);
    const std::vector<double> xd(xf.begin(), xf.end());
    for (int64_t axis = -3; axis < 3; ++axis) {
      const int64_t a = axis < 0 ? axis + 3 : axis, n = shape[static_cast<size_t>(a)];
      for (int64_t k : {int64_t{0}, int64_t{1}, n / 2, n}) {
        for (int largest = 0; largest < 2; ++largest) {
          auto out = NodeModel("TopK", 11).feed(x).feed(ints({k})).outputs(2).attr_int("axis", axis).attr_int("largest", largest).run();
          ASSERT_TRUE(out.is_ok()) << out.status().message();
          const std::string what = "axis " + std::to_string(axis) + " k " + std::to_string(k) + " largest " +
                                   std::to_string(largest) + (with_nan ? " with NaN" : "");
          EXPECT_EQ(out.value()[0].dim(a), k) << what;
          expect_matches(out.value(), reference(xd, shape, a, k, largest), what);
        }
      }
    }
  }
}

TEST(TopK, HeapAndPartitionPathsAgreeWithTheReference) {
  // n = 200 along a middle axis: k <= 12 takes the heap path (k * 16 <= n),
  // k = 13 and up the partition path; ties, NaNs, and a strided row (inner 2).
  const Shape shape = {3, 200, 2};
  const Tensor x = tied_values(shape, 11, true);
  const std::vector<float> xf = values_of<float>(x);
  const std::vector<double> xd(xf.begin(), xf.end());
  for (int64_t k : {1, 5, 12, 13, 60}) {
    for (int largest = 0; largest < 2; ++largest) {
      auto out = NodeModel("TopK", 11).feed(x).feed(ints({k})).outputs(2).attr_int("axis", 1).attr_int("largest", largest).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      expect_matches(out.value(), reference(xd, shape, 1, k, largest), "k " + std::to_string(k) + " largest " + std::to_string(largest));
    }
  }
}

TEST(TopK, SortedInputsWhereEveryElementEntersTheHeap) {
  // Ascending for largest=1 (descending for largest=0): each new element beats
  // the k kept so far, the heap's worst case.
  std::vector<float> up(1000);
  for (size_t i = 0; i < up.size(); ++i) up[i] = static_cast<float>(i) * 0.5f;
  std::vector<float> down(up.rbegin(), up.rend());
  for (int largest = 0; largest < 2; ++largest) {
    const Tensor x = make_tensor({1000}, largest ? up : down);
    auto out = NodeModel("TopK", 11).feed(x).feed(ints({4})).outputs(2).attr_int("largest", largest).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    EXPECT_EQ(values_of<float>(out.value()[0]), largest ? (std::vector<float>{499.5f, 499, 498.5f, 498}) : (std::vector<float>{0, 0.5f, 1, 1.5f}));
    EXPECT_EQ(values_of<int64_t>(out.value()[1]), (std::vector<int64_t>{999, 998, 997, 996})) << largest;
  }
}

TEST(TopK, NaNRanksAboveEveryNumberAndTiesGoToTheLowerIndex) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = make_tensor({6}, {1, nan, 3, nan, 3, -0.f});
  auto top = NodeModel("TopK", 11).feed(x).feed(ints({4})).outputs(2).run();
  ASSERT_TRUE(top.is_ok()) << top.status().message();
  EXPECT_EQ(values_of<int64_t>(top.value()[1]), (std::vector<int64_t>{1, 3, 2, 4}));
  auto bottom = NodeModel("TopK", 11).feed(x).feed(ints({6})).outputs(2).attr_int("largest", 0).run();
  ASSERT_TRUE(bottom.is_ok()) << bottom.status().message();
  // -0 and 1 are not tied; 3 and 3 are (index 2 first), the NaNs come last by index.
  EXPECT_EQ(values_of<int64_t>(bottom.value()[1]), (std::vector<int64_t>{5, 0, 2, 4, 1, 3}));
}

TEST(TopK, LongAxisSmallKPicksTheRightElements) {
  // 200000 elements, k = 5, on the partial-selection path; the row is many times the task split size.
  const Shape shape = {2, 100000};
  const Tensor x = random_tensor(shape, 21, -1000.f, 1000.f);
  const std::vector<float> xf = values_of<float>(x);
  const std::vector<double> xd(xf.begin(), xf.end());
  for (int largest = 0; largest < 2; ++largest) {
    auto out = NodeModel("TopK", 11).feed(x).feed(ints({5})).outputs(2).attr_int("largest", largest).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    expect_matches(out.value(), reference(xd, shape, 1, 5, largest), "long axis");
  }
}

TEST(TopK, ManyShortRowsSplitOverThreads) {
  // 3000 rows of 64: several tasks of the row split, each row checked.
  const Shape shape = {3000, 64};
  const Tensor x = tied_values(shape, 5, true);
  const std::vector<float> xf = values_of<float>(x);
  auto out = NodeModel("TopK", 11).feed(x).feed(ints({7})).outputs(2).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  expect_matches(out.value(), reference(std::vector<double>(xf.begin(), xf.end()), shape, 1, 7, true), "rows");
}

TEST(TopK, IntegerDoubleAndHalfTypes) {
  auto i32 = NodeModel("TopK", 11).feed(make_tensor<int32_t>({5}, {3, -7, 3, 9, 0})).feed(ints({3})).outputs(2).run();
  ASSERT_TRUE(i32.is_ok()) << i32.status().message();
  EXPECT_EQ(values_of<int32_t>(i32.value()[0]), (std::vector<int32_t>{9, 3, 3}));
  EXPECT_EQ(values_of<int64_t>(i32.value()[1]), (std::vector<int64_t>{3, 0, 2}));
  auto u8 = NodeModel("TopK", 11).feed(make_tensor<uint8_t>({4}, {200, 1, 255, 0})).feed(ints({2})).outputs(2).attr_int("largest", 0).run();
  ASSERT_TRUE(u8.is_ok()) << u8.status().message();
  EXPECT_EQ(values_of<uint8_t>(u8.value()[0]), (std::vector<uint8_t>{0, 1}));
  auto i64 = NodeModel("TopK", 11).feed(make_tensor<int64_t>({3}, {INT64_MIN, INT64_MAX, 0})).feed(ints({1})).outputs(2).run();
  ASSERT_TRUE(i64.is_ok()) << i64.status().message();
  EXPECT_EQ(values_of<int64_t>(i64.value()[0]), (std::vector<int64_t>{INT64_MAX}));
  auto i8 = NodeModel("TopK", 11).feed(make_tensor<int8_t>({3}, {-128, 127, -1})).feed(ints({2})).outputs(2).attr_int("largest", 0).run();
  ASSERT_TRUE(i8.is_ok()) << i8.status().message();
  EXPECT_EQ(values_of<int8_t>(i8.value()[0]), (std::vector<int8_t>{-128, -1}));
  auto f64 = NodeModel("TopK", 11).feed(make_tensor<double>({3}, {0.1, 0.3, 0.2})).feed(ints({2})).outputs(2).run();
  ASSERT_TRUE(f64.is_ok()) << f64.status().message();
  EXPECT_EQ(values_of<double>(f64.value()[0]), (std::vector<double>{0.3, 0.2}));
  // float16: widened to float32 and rounded back, both exact, so the bits come back unchanged.
  const uint16_t h[4] = {float_to_half(1.5f), float_to_half(65504.f), float_to_half(-2.f), float_to_half(0.0999755859375f)};
  Tensor half = Tensor::allocate(DataType::kFloat16, {4});
  std::memcpy(half.raw_data(), h, sizeof h);
  auto f16 = NodeModel("TopK", 11).feed(half).feed(ints({3})).outputs(2).run();
  ASSERT_TRUE(f16.is_ok()) << f16.status().message();
  ASSERT_EQ(f16.value()[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(f16.value()[0]), (std::vector<uint16_t>{h[1], h[0], h[3]}));
  EXPECT_EQ(values_of<int64_t>(f16.value()[1]), (std::vector<int64_t>{1, 0, 3}));
}

TEST(TopK, OpsetOneTakesKAsAttributeAndTenAsInput) {
  const Tensor x = make_tensor({2, 3}, {1, 5, 3, 6, 4, 2});
  auto v1 = NodeModel("TopK", 1).feed(x).outputs(2).attr_int("k", 2).run();
  ASSERT_TRUE(v1.is_ok()) << v1.status().message();
  EXPECT_EQ(values_of<float>(v1.value()[0]), (std::vector<float>{5, 3, 6, 4}));
  auto v10 = NodeModel("TopK", 10).feed(x).feed(ints({1})).outputs(2).attr_int("axis", 0).run();
  ASSERT_TRUE(v10.is_ok()) << v10.status().message();
  EXPECT_EQ(values_of<float>(v10.value()[0]), (std::vector<float>{6, 5, 3}));
  EXPECT_EQ(values_of<int64_t>(v10.value()[1]), (std::vector<int64_t>{1, 0, 0}));
  // largest and sorted are opset 11's: unknown attributes before.
  auto early = NodeModel("TopK", 10).feed(x).feed(ints({1})).outputs(2).attr_int("largest", 0).run();
  ASSERT_FALSE(early.is_ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidModel);
  auto sorted0 = NodeModel("TopK", 11).feed(x).feed(ints({3})).outputs(2).attr_int("sorted", 0).run();
  ASSERT_TRUE(sorted0.is_ok()) << sorted0.status().message();
  EXPECT_EQ(values_of<float>(sorted0.value()[0]), (std::vector<float>{5, 3, 1, 6, 4, 2}));
}

void expect_error(const Result<std::vector<Tensor>>& r, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'n'"), std::string::npos) << "names the node: " << r.status().message();
}

TEST(TopK, BadKIsBadInputWhenFedAndAnInvalidModelWhenAnInitializer) {
  const Tensor x = make_tensor({2, 3}, {1, 5, 3, 6, 4, 2});
  expect_error(NodeModel("TopK", 11).feed(x).feed(ints({-1})).outputs(2).run(), ErrorCode::kBadInput, "k = -1 is negative");
  expect_error(NodeModel("TopK", 11).feed(x).feed(ints({4})).outputs(2).run(), ErrorCode::kBadInput, "larger than axis 1");
  expect_error(NodeModel("TopK", 11).feed(x).feed(ints({1, 2})).outputs(2).run(), ErrorCode::kBadInput, "one element");
  expect_error(NodeModel("TopK", 11).feed(x).feed(scalar<int64_t>(1)).outputs(2).run(), ErrorCode::kBadInput, "1-D");
  expect_error(NodeModel("TopK", 11).feed(x).init(ints({-1})).outputs(2).run(), ErrorCode::kInvalidModel, "negative");
  expect_error(NodeModel("TopK", 11).feed(x).init(ints({4})).outputs(2).run(), ErrorCode::kInvalidModel, "larger than axis 1");
  expect_error(NodeModel("TopK", 11).feed(x).init(ints({})).outputs(2).run(), ErrorCode::kInvalidModel, "one element");
  expect_error(NodeModel("TopK", 11).feed(x).feed(make_tensor<int32_t>({1}, {1})).outputs(2).run(), ErrorCode::kInvalidModel,
               "int64");
  expect_error(NodeModel("TopK", 1).feed(x).outputs(2).attr_int("k", -2).run(), ErrorCode::kInvalidModel, "negative");
  expect_error(NodeModel("TopK", 1).feed(x).outputs(2).attr_int("k", 9).run(), ErrorCode::kInvalidModel, "larger");
  expect_error(NodeModel("TopK", 1).feed(x).outputs(2).run(), ErrorCode::kInvalidModel, "'k'");
  expect_error(NodeModel("TopK", 11).feed(x).feed(ints({1})).outputs(2).attr_int("axis", 2).run(), ErrorCode::kInvalidModel,
               "'axis'");
  expect_error(NodeModel("TopK", 11).feed(x).feed(ints({1})).outputs(2).attr_int("largest", 2).run(),
               ErrorCode::kInvalidModel, "'largest'");
  expect_error(NodeModel("TopK", 11).feed(scalar<float>(1)).feed(ints({1})).outputs(2).run(), ErrorCode::kInvalidModel, "'axis'");
  // A symbolic X: k is checked against the axis when the run shows it.
  auto sym = NodeModel("TopK", 11).input(In::feed_symbolic(x)).init(ints({4})).outputs(2).run();
  expect_error(sym, ErrorCode::kBadInput, "larger than axis 1");
}

}  // namespace
}  // namespace onnx_mini::testing
