// ScatterND and ScatterElements against naive references (the spec's loops, in
// double): random shapes, negative indices, every reduction, the dtypes, the
// opset 18 max/min worked out from the spec, and every error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/half.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

double reduce(double out, double update, const std::string& r) {
  if (r == "add") return out + update;
  if (r == "mul") return out * update;
  if (r == "max") return std::isnan(out) || std::isnan(update) ? NAN : std::max(out, update);
  if (r == "min") return std::isnan(out) || std::isnan(update) ? NAN : std::min(out, update);
  return update;
}

// Small integers as floats: sums and products of a few stay exact in float and
// double, so the reference and the kernel agree bit for bit whatever the order.
Tensor small_integers(const Shape& shape, std::mt19937& rng) {
  Tensor t = Tensor::allocate(DataType::kFloat, shape);
  std::uniform_int_distribution<int> d(-3, 3);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = static_cast<float>(d(rng));
  return t;
}

std::vector<double> as_doubles(const Tensor& t) {
  const auto f = values_of<float>(t);
  return {f.begin(), f.end()};
}

void expect_equal(const Tensor& got, const std::vector<double>& ref, const std::string& what) {
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(ref.size())) << what;
  const float* p = got.data<float>();
  for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(p[i], static_cast<float>(ref[i])) << what << " at " << i;
}

// ---- ScatterElements ----

std::vector<double> scatter_elements_ref(const Tensor& data, const Tensor& indices, const Tensor& updates, int64_t axis,
                                         const std::string& r) {
  std::vector<double> out = as_doubles(data);
  const std::vector<double> upd = as_doubles(updates);
  for (int64_t i = 0; i < indices.num_elements(); ++i) {
    std::vector<int64_t> c = unravel(i, indices.shape());
    int64_t v = indices.data<int64_t>()[i];
    c[static_cast<size_t>(axis)] = v < 0 ? v + data.dim(axis) : v;
    double& o = out[static_cast<size_t>(ravel(c, data.shape()))];
    o = reduce(o, upd[static_cast<size_t>(i)], r);
  }
  return out;
}

TEST(ScatterElements, RandomShapesEveryAxisAndReduction) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t rank = 1 + trial % 3;
    Shape data_shape, idx_shape;
    for (int64_t d = 0; d < rank; ++d) {
      data_shape.push_back(1 + static_cast<int64_t>(rng() % 5));
      idx_shape.push_back(1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(data_shape.back())));
    }
    const int64_t axis = static_cast<int64_t>(rng() % static_cast<uint32_t>(rank));
    idx_shape[static_cast<size_t>(axis)] = 1 + static_cast<int64_t>(rng() % 6);  // any length along the axis
    Tensor indices = Tensor::allocate(DataType::kInt64, idx_shape);
    const int64_t dim = data_shape[static_cast<size_t>(axis)];
    for (int64_t i = 0; i < indices.num_elements(); ++i) {
      indices.data<int64_t>()[i] = static_cast<int64_t>(rng() % static_cast<uint32_t>(2 * dim)) - dim;  // [-dim, dim)
    }
    const Tensor data = small_integers(data_shape, rng), updates = small_integers(idx_shape, rng);
    for (const char* r : {"none", "add", "mul", "max", "min"}) {
      auto out = NodeModel("ScatterElements", 18).feed(data).feed(indices).feed(updates).attr_int("axis", axis - (trial % 2 ? rank : 0)).attr_string("reduction", r).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      // With duplicates and no reduction the last update in row-major order stays (the reference's loop).
      expect_equal(out.value()[0], scatter_elements_ref(data, indices, updates, axis, r),
                   "trial " + std::to_string(trial) + " " + r);
    }
  }
}

TEST(ScatterElements, Opset18MaxMinWorkedFromTheSpec) {
  // The spec's example with reduction: data [[1, 2, 3, 4, 5]], indices [[1, 1]],
  // updates [[1.1, 2.1]], axis 1: max keeps 2.1 at [0, 1], min keeps 1.1.
  const Tensor data = make_tensor({1, 5}, {1, 2, 3, 4, 5});
  const Tensor idx = make_tensor<int64_t>({1, 2}, {1, 1});
  const Tensor upd = make_tensor({1, 2}, {1.1f, 2.1f});
  auto mx = NodeModel("ScatterElements", 18).feed(data).feed(idx).feed(upd).attr_int("axis", 1).attr_string("reduction", "max").run();
  ASSERT_TRUE(mx.is_ok()) << mx.status().message();
  EXPECT_EQ(values_of<float>(mx.value()[0]), (std::vector<float>{1, 2.1f, 3, 4, 5}));
  auto mn = NodeModel("ScatterElements", 18).feed(data).feed(idx).feed(upd).attr_int("axis", 1).attr_string("reduction", "min").run();
  ASSERT_TRUE(mn.is_ok()) << mn.status().message();
  EXPECT_EQ(values_of<float>(mn.value()[0]), (std::vector<float>{1, 1.1f, 3, 4, 5}));
  // NaN on either side wins, as numpy's maximum/minimum.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto n1 = NodeModel("ScatterElements", 18).feed(make_tensor({2}, {nan, 1})).feed(make_tensor<int64_t>({2}, {0, 1}))
                .feed(make_tensor({2}, {5, nan})).attr_string("reduction", "max").run();
  ASSERT_TRUE(n1.is_ok()) << n1.status().message();
  EXPECT_TRUE(std::isnan(n1.value()[0].data<float>()[0]) && std::isnan(n1.value()[0].data<float>()[1]));
  // max and min are opset 18's: at 16 an invalid model.
  auto early = NodeModel("ScatterElements", 16).feed(data).feed(idx).feed(upd).attr_string("reduction", "max").run();
  ASSERT_FALSE(early.is_ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidModel);
}

TEST(ScatterElements, IntegerBoolAndHalfTypes) {
  const Tensor idx = make_tensor<int32_t>({3}, {0, 0, 1});
  // int8 wraps modulo 256 (100 + 100 = -56), uint8 products too (16 * 16 = 0).
  auto i8 = NodeModel("ScatterElements", 16).feed(make_tensor<int8_t>({2}, {100, 1})).feed(idx)
                .feed(make_tensor<int8_t>({3}, {100, -100, 5})).attr_string("reduction", "add").run();
  ASSERT_TRUE(i8.is_ok()) << i8.status().message();
  EXPECT_EQ(values_of<int8_t>(i8.value()[0]), (std::vector<int8_t>{100, 6}));
  auto u8 = NodeModel("ScatterElements", 16).feed(make_tensor<uint8_t>({2}, {16, 3})).feed(idx)
                .feed(make_tensor<uint8_t>({3}, {16, 1, 5})).attr_string("reduction", "mul").run();
  ASSERT_TRUE(u8.is_ok()) << u8.status().message();
  EXPECT_EQ(values_of<uint8_t>(u8.value()[0]), (std::vector<uint8_t>{0, 15}));
  auto i16 = NodeModel("ScatterElements", 16).feed(make_tensor<int16_t>({2}, {300, 2})).feed(idx)
                 .feed(make_tensor<int16_t>({3}, {300, 1, 7})).attr_string("reduction", "mul").run();
  ASSERT_TRUE(i16.is_ok()) << i16.status().message();
  EXPECT_EQ(values_of<int16_t>(i16.value()[0]), (std::vector<int16_t>{static_cast<int16_t>(90000 - 65536 * 1), 14}));
  // bool: add is "or", mul is "and".
  const Tensor b = make_tensor<bool>({2}, {false, true});
  const Tensor bu = make_tensor<bool>({3}, {true, false, false});
  auto bor = NodeModel("ScatterElements", 16).feed(b).feed(idx).feed(bu).attr_string("reduction", "add").run();
  ASSERT_TRUE(bor.is_ok()) << bor.status().message();
  EXPECT_EQ(values_of<bool>(bor.value()[0]), (std::vector<bool>{true, true}));
  auto band = NodeModel("ScatterElements", 16).feed(b).feed(idx).feed(bu).attr_string("reduction", "mul").run();
  ASSERT_TRUE(band.is_ok()) << band.status().message();
  EXPECT_EQ(values_of<bool>(band.value()[0]), (std::vector<bool>{false, false}));
  auto i64 = NodeModel("ScatterElements", 13).feed(make_tensor<int64_t>({2}, {1, 2})).feed(make_tensor<int64_t>({1}, {-1}))
                 .feed(make_tensor<int64_t>({1}, {INT64_MIN})).run();
  ASSERT_TRUE(i64.is_ok()) << i64.status().message();
  EXPECT_EQ(values_of<int64_t>(i64.value()[0]), (std::vector<int64_t>{1, INT64_MIN}));
  // float16 adds in float32 and rounds once: 2048 + 1 + 1 = 2050 exactly (a
  // float16 running sum would stick at 2048, whose spacing is 2).
  Tensor h = Tensor::allocate(DataType::kFloat16, {2});
  h.data<uint16_t>()[0] = float_to_half(2048.f);
  h.data<uint16_t>()[1] = float_to_half(0.5f);
  Tensor hu = Tensor::allocate(DataType::kFloat16, {3});
  hu.data<uint16_t>()[0] = hu.data<uint16_t>()[1] = float_to_half(1.f);
  hu.data<uint16_t>()[2] = float_to_half(0.25f);
  auto f16 = NodeModel("ScatterElements", 16).feed(h).feed(idx).feed(hu).attr_string("reduction", "add").run();
  ASSERT_TRUE(f16.is_ok()) << f16.status().message();
  ASSERT_EQ(f16.value()[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(f16.value()[0]), (std::vector<uint16_t>{float_to_half(2050.f), float_to_half(0.75f)}));
}

void expect_error(const Result<std::vector<Tensor>>& r, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'n'"), std::string::npos) << "names the node: " << r.status().message();
}

TEST(ScatterElements, ErrorsNameTheInputThePositionAndTheValue) {
  const Tensor data = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor upd = make_tensor({1, 2}, {7, 8});
  const Tensor bad = make_tensor<int64_t>({1, 2}, {0, 3});
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(bad).feed(upd).attr_int("axis", 1).run(), ErrorCode::kBadInput,
               "index 3 at [0, 1] is out of range [-3, 3) for axis 1");
  expect_error(NodeModel("ScatterElements", 13).feed(data).init(bad).feed(upd).attr_int("axis", 1).run(),
               ErrorCode::kInvalidModel, "initializer input 'indices': index 3 at [0, 1]");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(make_tensor<int64_t>({1, 2}, {0, -4})).feed(upd).attr_int("axis", 1).run(),
               ErrorCode::kBadInput, "index -4");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(make_tensor<int64_t>({2}, {0, 1})).feed(make_tensor({2}, {1, 2})).run(),
               ErrorCode::kBadInput, "rank");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(bad).feed(make_tensor({2, 1}, {7, 8})).run(),
               ErrorCode::kBadInput, "shape of input 'indices'");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(make_tensor<int64_t>({1, 4}, {0, 0, 0, 0})).feed(make_tensor({1, 4}, {1, 1, 1, 1})).run(),
               ErrorCode::kBadInput, "larger than input 'data'");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(make_tensor({1, 2}, {0, 1})).feed(upd).run(),
               ErrorCode::kInvalidModel, "int32 or int64");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(bad).feed(make_tensor<double>({1, 2}, {7, 8})).run(),
               ErrorCode::kInvalidModel, "input 'updates' is double");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(bad).feed(upd).attr_int("axis", 2).run(),
               ErrorCode::kInvalidModel, "'axis'");
  expect_error(NodeModel("ScatterElements", 16).feed(data).feed(bad).feed(upd).attr_string("reduction", "sum").run(),
               ErrorCode::kInvalidModel, "'reduction' = 'sum'");
  expect_error(NodeModel("ScatterElements", 13).feed(data).feed(bad).feed(upd).attr_string("reduction", "add").run(),
               ErrorCode::kInvalidModel, "reduction");
}

// ---- ScatterND ----

std::vector<double> scatter_nd_ref(const Tensor& data, const Tensor& indices, const Tensor& updates, const std::string& r) {
  std::vector<double> out = as_doubles(data);
  const std::vector<double> upd = as_doubles(updates);
  const int64_t k = indices.dim(indices.rank() - 1);
  int64_t slice = 1;
  for (int64_t d = k; d < data.rank(); ++d) slice *= data.dim(d);
  const int64_t tuples = indices.num_elements() / std::max<int64_t>(k, 1);
  for (int64_t t = 0; t < tuples; ++t) {
    std::vector<int64_t> c(static_cast<size_t>(data.rank()), 0);
    for (int64_t j = 0; j < k; ++j) {
      const int64_t v = indices.data<int64_t>()[t * k + j];
      c[static_cast<size_t>(j)] = v < 0 ? v + data.dim(j) : v;
    }
    const int64_t base = ravel(c, data.shape());
    for (int64_t e = 0; e < slice; ++e) {
      double& o = out[static_cast<size_t>(base + e)];
      o = reduce(o, upd[static_cast<size_t>(t * slice + e)], r);
    }
  }
  return out;
}

TEST(ScatterND, RandomShapesTupleLengthsAndReductions) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t rank = 1 + trial % 4;
    Shape data_shape;
    for (int64_t d = 0; d < rank; ++d) data_shape.push_back(1 + static_cast<int64_t>(rng() % 4));
    const int64_t k = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(rank));
    int64_t slices = 1;
    for (int64_t d = 0; d < k; ++d) slices *= data_shape[static_cast<size_t>(d)];
    // Distinct slices (a shuffled prefix) for "none", repeats allowed for the reductions.
    std::vector<int64_t> order(static_cast<size_t>(slices));
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t tuples = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(slices));
    Shape idx_shape = trial % 3 == 0 ? Shape{tuples, k} : Shape{1, tuples, k};
    Shape upd_shape(idx_shape.begin(), idx_shape.end() - 1);
    upd_shape.insert(upd_shape.end(), data_shape.begin() + k, data_shape.end());
    const Tensor data = small_integers(data_shape, rng), updates = small_integers(upd_shape, rng);
    for (const char* r : {"none", "add", "mul", "max", "min"}) {
      const bool distinct = std::string(r) == "none";
      Tensor indices = Tensor::allocate(DataType::kInt64, idx_shape);
      for (int64_t t = 0; t < tuples; ++t) {
        int64_t s = distinct ? order[static_cast<size_t>(t)] : static_cast<int64_t>(rng() % static_cast<uint32_t>(slices));
        for (int64_t j = k - 1; j >= 0; --j) {
          const int64_t dim = data_shape[static_cast<size_t>(j)];
          const int64_t c = s % dim;
          s /= dim;
          indices.data<int64_t>()[t * k + j] = rng() % 2 ? c - dim : c;  // half of them negative
        }
      }
      auto out = NodeModel("ScatterND", 18).feed(data).feed(indices).feed(updates).attr_string("reduction", r).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      expect_equal(out.value()[0], scatter_nd_ref(data, indices, updates, r), "trial " + std::to_string(trial) + " " + r);
    }
  }
}

TEST(ScatterND, Opset18MaxMinWorkedFromTheSpec) {
  // The ScatterND node test's data and updates, both tuples naming slice 0:
  // slice 0 becomes the elementwise max (min) of data[0], updates[0], updates[1].
  std::vector<float> data_v = {1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1,
                               8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1, 1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> upd_v = {5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 8, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4};
  const Tensor data = make_tensor({4, 4, 4}, data_v), upd = make_tensor({2, 4, 4}, upd_v);
  const Tensor idx = make_tensor<int64_t>({2, 1}, {0, 0});
  auto mx = NodeModel("ScatterND", 18).feed(data).feed(idx).feed(upd).attr_string("reduction", "max").run();
  ASSERT_TRUE(mx.is_ok()) << mx.status().message();
  std::vector<float> want = data_v;
  const std::vector<float> max0 = {5, 5, 5, 5, 6, 6, 7, 8, 8, 7, 7, 7, 8, 8, 8, 8};
  std::copy(max0.begin(), max0.end(), want.begin());
  EXPECT_EQ(values_of<float>(mx.value()[0]), want);
  auto mn = NodeModel("ScatterND", 18).feed(data).feed(idx).feed(upd).attr_string("reduction", "min").run();
  ASSERT_TRUE(mn.is_ok()) << mn.status().message();
  const std::vector<float> min0 = {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 3, 2, 1};
  std::copy(min0.begin(), min0.end(), want.begin());
  EXPECT_EQ(values_of<float>(mn.value()[0]), want);
  auto early = NodeModel("ScatterND", 17).feed(data).feed(idx).feed(upd).attr_string("reduction", "min").run();
  ASSERT_FALSE(early.is_ok());
  EXPECT_EQ(early.status().code(), ErrorCode::kInvalidModel);
}

TEST(ScatterND, WholeTensorTuplesOfLengthZeroAndHalfAndBool) {
  // k = 0: each tuple names the whole tensor; with add every update adds in.
  auto whole = NodeModel("ScatterND", 16).feed(make_tensor({2}, {1, 2})).feed(make_tensor<int64_t>({3, 0}, {}))
                   .feed(make_tensor({3, 2}, {1, 1, 2, 2, 3, 3})).attr_string("reduction", "add").run();
  ASSERT_TRUE(whole.is_ok()) << whole.status().message();
  EXPECT_EQ(values_of<float>(whole.value()[0]), (std::vector<float>{7, 8}));
  // 2^30 tuples of length 0 on empty data: nothing to write, answered at once
  // (no scratch per tuple, no loop over them).
  const int64_t many = int64_t{1} << 30;
  auto hollow = NodeModel("ScatterND", 16).feed(make_tensor({0}, {})).feed(make_tensor<int64_t>({many, 0}, {}))
                    .feed(make_tensor({many, 0}, {})).run();
  ASSERT_TRUE(hollow.is_ok()) << hollow.status().message();
  EXPECT_EQ(hollow.value()[0].shape(), (Shape{0}));
  Tensor h = Tensor::allocate(DataType::kFloat16, {3});
  for (int i = 0; i < 3; ++i) h.data<uint16_t>()[i] = float_to_half(static_cast<float>(i) + 0.5f);
  Tensor hu = Tensor::allocate(DataType::kFloat16, {1});
  hu.data<uint16_t>()[0] = float_to_half(-7.f);
  auto f16 = NodeModel("ScatterND", 13).feed(h).feed(make_tensor<int32_t>({1, 1}, {-1})).feed(hu).run();
  ASSERT_TRUE(f16.is_ok()) << f16.status().message();
  EXPECT_EQ(values_of<uint16_t>(f16.value()[0]),
            (std::vector<uint16_t>{float_to_half(0.5f), float_to_half(1.5f), float_to_half(-7.f)}));
  auto b = NodeModel("ScatterND", 16).feed(make_tensor<bool>({2, 2}, {true, false, false, true})).feed(make_tensor<int64_t>({1, 1}, {1}))
               .feed(make_tensor<bool>({1, 2}, {true, true})).attr_string("reduction", "mul").run();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(values_of<bool>(b.value()[0]), (std::vector<bool>{true, false, false, true}));
}

TEST(ScatterND, ErrorsIncludingDuplicateTuplesWithoutAReduction) {
  const Tensor data = make_tensor({2, 2}, {1, 2, 3, 4});
  const Tensor upd = make_tensor({2}, {7, 8});
  const Tensor dup = make_tensor<int64_t>({2, 2}, {0, 1, -2, -1});  // [0, 1] twice
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(dup).feed(upd).run(), ErrorCode::kBadInput,
               "the tuple at [1, 0] names a slice of 'data' an earlier tuple names too");
  expect_error(NodeModel("ScatterND", 16).feed(data).init(dup).feed(upd).run(), ErrorCode::kInvalidModel, "initializer input 'indices'");
  auto added = NodeModel("ScatterND", 16).feed(data).feed(dup).feed(upd).attr_string("reduction", "add").run();
  ASSERT_TRUE(added.is_ok()) << added.status().message();
  EXPECT_EQ(values_of<float>(added.value()[0]), (std::vector<float>{1, 17, 3, 4}));
  const Tensor out_of_range = make_tensor<int64_t>({2, 2}, {0, 1, 1, 2});
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(out_of_range).feed(upd).run(), ErrorCode::kBadInput,
               "index 2 at [1, 1] is out of range [-2, 2) for axis 1");
  expect_error(NodeModel("ScatterND", 16).feed(data).init(out_of_range).feed(upd).run(), ErrorCode::kInvalidModel, "index 2 at [1, 1]");
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(make_tensor<int64_t>({1, 3}, {0, 0, 0})).feed(make_tensor({1}, {1})).run(),
               ErrorCode::kBadInput, "tuples of 3 indices into input 'data' of rank 2");
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(make_tensor<int64_t>({2, 1}, {0, 1})).feed(upd).run(), ErrorCode::kBadInput,
               "expected [2, 2]");
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(scalar<int64_t>(0)).feed(upd).run(), ErrorCode::kBadInput, "rank >= 1");
  expect_error(NodeModel("ScatterND", 16).feed(data).feed(make_tensor({2, 2}, {0, 0, 1, 1})).feed(upd).run(), ErrorCode::kInvalidModel,
               "int32 or int64");
}

}  // namespace
}  // namespace onnx_mini::testing
