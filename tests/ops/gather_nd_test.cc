// GatherND against a naive reference (the spec's loop over batches and
// tuples): random shapes, batch_dims 0 to 2, negative indices, the element
// sizes, and every error.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/half.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

std::vector<float> gather_nd_ref(const Tensor& data, const Tensor& indices, int64_t b) {
  const int64_t k = indices.dim(indices.rank() - 1);
  int64_t batches = 1, slice = 1;
  for (int64_t d = 0; d < b; ++d) batches *= data.dim(d);
  for (int64_t d = b + k; d < data.rank(); ++d) slice *= data.dim(d);
  const int64_t tuples = indices.num_elements() / k / batches;
  std::vector<float> out;
  for (int64_t bi = 0; bi < batches; ++bi) {
    for (int64_t t = 0; t < tuples; ++t) {
      std::vector<int64_t> c = unravel(bi, Shape(data.shape().begin(), data.shape().begin() + b));
      for (int64_t j = 0; j < k; ++j) {
        const int64_t v = indices.data<int64_t>()[(bi * tuples + t) * k + j];
        c.push_back(v < 0 ? v + data.dim(b + j) : v);
      }
      c.resize(static_cast<size_t>(data.rank()), 0);
      const int64_t base = ravel(c, data.shape());
      for (int64_t e = 0; e < slice; ++e) out.push_back(data.data<float>()[base + e]);
    }
  }
  return out;
}

TEST(GatherND, RandomShapesAndBatchDims) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t r = 1 + trial % 4;
    const int64_t b = static_cast<int64_t>(rng() % static_cast<uint32_t>(std::min<int64_t>(r, 3)));
    Shape data_shape;
    for (int64_t d = 0; d < r; ++d) data_shape.push_back(1 + static_cast<int64_t>(rng() % 4));
    const int64_t k = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(r - b));
    Shape idx_shape(data_shape.begin(), data_shape.begin() + b);
    for (int64_t extra = static_cast<int64_t>(rng() % 3); extra > 0; --extra) idx_shape.push_back(1 + static_cast<int64_t>(rng() % 3));
    idx_shape.push_back(k);
    Tensor indices = Tensor::allocate(DataType::kInt64, idx_shape);
    for (int64_t i = 0; i < indices.num_elements(); ++i) {
      const int64_t dim = data_shape[static_cast<size_t>(b + i % k)];
      indices.data<int64_t>()[i] = static_cast<int64_t>(rng() % static_cast<uint32_t>(2 * dim)) - dim;
    }
    const Tensor data = random_tensor(data_shape, static_cast<uint64_t>(trial));
    auto out = NodeModel("GatherND", 13).feed(data).feed(indices).attr_int("batch_dims", b).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    Shape want(idx_shape.begin(), idx_shape.end() - 1);
    want.insert(want.end(), data_shape.begin() + b + k, data_shape.end());
    EXPECT_EQ(out.value()[0].shape(), want) << "trial " << trial;
    // Copied, not computed: the very same floats.
    EXPECT_EQ(values_of<float>(out.value()[0]), gather_nd_ref(data, indices, b)) << "trial " << trial;
  }
}

TEST(GatherND, SpecExamplesAndElementSizes) {
  const Tensor data = make_tensor<int32_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto ex4 = NodeModel("GatherND", 11).feed(data).feed(make_tensor<int64_t>({2, 1, 2}, {0, 1, 1, 0})).run();
  ASSERT_TRUE(ex4.is_ok()) << ex4.status().message();
  EXPECT_EQ(ex4.value()[0].shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(values_of<int32_t>(ex4.value()[0]), (std::vector<int32_t>{2, 3, 4, 5}));
  auto ex5 = NodeModel("GatherND", 12).feed(data).feed(make_tensor<int32_t>({2, 1}, {1, 0})).attr_int("batch_dims", 1).run();
  ASSERT_TRUE(ex5.is_ok()) << ex5.status().message();
  EXPECT_EQ(values_of<int32_t>(ex5.value()[0]), (std::vector<int32_t>{2, 3, 4, 5}));
  // float16 moves as bits (no float32 round trip: a NaN payload survives).
  Tensor h = Tensor::allocate(DataType::kFloat16, {3});
  const uint16_t bits[3] = {0x7e01, float_to_half(-1.5f), 0x0001};
  std::memcpy(h.raw_data(), bits, sizeof bits);
  auto f16 = NodeModel("GatherND", 13).feed(h).feed(make_tensor<int64_t>({3, 1}, {2, 0, -2})).run();
  ASSERT_TRUE(f16.is_ok()) << f16.status().message();
  ASSERT_EQ(f16.value()[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(values_of<uint16_t>(f16.value()[0]), (std::vector<uint16_t>{bits[2], bits[0], bits[1]}));
  auto b8 = NodeModel("GatherND", 13).feed(make_tensor<bool>({2, 2}, {true, false, false, false})).feed(make_tensor<int64_t>({1, 2}, {0, 0})).run();
  ASSERT_TRUE(b8.is_ok()) << b8.status().message();
  EXPECT_EQ(values_of<bool>(b8.value()[0]), (std::vector<bool>{true}));
  auto d = NodeModel("GatherND", 13).feed(make_tensor<double>({2, 2}, {1, 2, 3, 4})).feed(make_tensor<int64_t>({1, 1}, {1})).run();
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(values_of<double>(d.value()[0]), (std::vector<double>{3, 4}));
  auto empty = NodeModel("GatherND", 13).feed(make_tensor({2, 2}, {1, 2, 3, 4})).feed(make_tensor<int64_t>({0, 1}, {})).run();
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty.value()[0].shape(), (Shape{0, 2}));
}

void expect_error(const Result<std::vector<Tensor>>& r, ErrorCode code, const std::string& needle) {
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), code) << r.status().message();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'n'"), std::string::npos) << "names the node: " << r.status().message();
}

TEST(GatherND, ErrorsNameTheInputThePositionAndTheValue) {
  const Tensor data = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor bad = make_tensor<int64_t>({2, 2}, {0, 0, 1, -4});
  expect_error(NodeModel("GatherND", 13).feed(data).feed(bad).run(), ErrorCode::kBadInput,
               "index -4 at [1, 1] is out of range [-3, 3) for axis 1");
  expect_error(NodeModel("GatherND", 13).feed(make_tensor({3, 0}, {})).feed(make_tensor<int64_t>({1, 1}, {5})).run(), ErrorCode::kBadInput,
               "index 5 at [0, 0] is out of range [-3, 3) for axis 0");
  expect_error(NodeModel("GatherND", 13).feed(data).init(bad).run(), ErrorCode::kInvalidModel, "initializer input 'indices': index -4");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor<int64_t>({1, 3}, {0, 0, 0})).run(), ErrorCode::kInvalidModel,
               "tuples of 3 indices, expected 1 to 2");
  // Indices of unknown shape at load: the same check at run, as bad input.
  expect_error(NodeModel("GatherND", 13).feed(data).input(In::feed_symbolic(make_tensor<int64_t>({1, 3}, {0, 0, 0}))).run(),
               ErrorCode::kBadInput, "tuples of 3 indices, expected 1 to 2");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor<int64_t>({1, 0}, {})).run(), ErrorCode::kInvalidModel,
               "tuples of 0 indices");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor<int64_t>({2, 1}, {0, 1})).attr_int("batch_dims", 2).run(),
               ErrorCode::kInvalidModel, "'batch_dims' = 2");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor<int64_t>({3, 1}, {0, 1, 2})).attr_int("batch_dims", 1).run(),
               ErrorCode::kBadInput, "batch axis 0 differs");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor<int64_t>({2, 1}, {0, 1})).attr_int("batch_dims", -1).run(),
               ErrorCode::kInvalidModel, "'batch_dims' = -1");
  expect_error(NodeModel("GatherND", 13).feed(data).feed(make_tensor({2, 1}, {0, 1})).run(), ErrorCode::kInvalidModel, "int64 or int32");
  expect_error(NodeModel("GatherND", 11).feed(data).feed(make_tensor<int64_t>({2, 1}, {0, 1})).attr_int("batch_dims", 0).run(),
               ErrorCode::kInvalidModel, "batch_dims");
}

}  // namespace
}  // namespace onnx_mini::testing
