// NonZero against the coordinates read off element by element: every rank,
// empty tensors, what counts as zero (NaN does not, -0 does) for every type.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>

#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

TEST(NonZero, CoordinatesRowMajorForEveryRank) {
  std::mt19937 rng(5);
  for (const Shape& shape : {Shape{7}, Shape{3, 4}, Shape{2, 3, 4}, Shape{2, 0, 3}}) {
    Tensor x = Tensor::allocate(DataType::kFloat, shape);
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = rng() % 3 == 0 ? 1.5f : 0.f;
    auto out = NodeModel("NonZero", 13).feed(x).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    std::vector<std::vector<int64_t>> want(shape.size());
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      if (x.data<float>()[i] == 0) continue;
      const auto c = unravel(i, shape);
      for (size_t d = 0; d < shape.size(); ++d) want[d].push_back(c[d]);
    }
    const int64_t count = static_cast<int64_t>(want[0].size());
    ASSERT_EQ(out.value()[0].shape(), (Shape{static_cast<int64_t>(shape.size()), count}));
    std::vector<int64_t> flat;
    for (const auto& row : want) flat.insert(flat.end(), row.begin(), row.end());
    EXPECT_EQ(values_of<int64_t>(out.value()[0]), flat) << shape_to_string(shape);
  }
}

TEST(NonZero, NaNIsNonZeroNegativeZeroIsZeroAndScalarsGiveRankZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto f = NodeModel("NonZero", 9).feed(make_tensor({4}, {-0.f, nan, 0.f, -1e-45f})).run();
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(values_of<int64_t>(f.value()[0]), (std::vector<int64_t>{1, 3}));
  Tensor h = Tensor::allocate(DataType::kFloat16, {4});
  const uint16_t bits[4] = {0x8000, 0x7e00, 0x0000, 0x0001};  // -0, NaN, +0, the smallest subnormal
  std::memcpy(h.raw_data(), bits, sizeof bits);
  auto f16 = NodeModel("NonZero", 13).feed(h).run();
  ASSERT_TRUE(f16.is_ok()) << f16.status().message();
  EXPECT_EQ(values_of<int64_t>(f16.value()[0]), (std::vector<int64_t>{1, 3}));
  Tensor bf = Tensor::allocate(DataType::kBFloat16, {2});
  bf.data<uint16_t>()[0] = 0x8000;
  bf.data<uint16_t>()[1] = 0x3f80;
  auto b16 = NodeModel("NonZero", 13).feed(bf).run();
  ASSERT_TRUE(b16.is_ok()) << b16.status().message();
  EXPECT_EQ(values_of<int64_t>(b16.value()[0]), (std::vector<int64_t>{1}));
  auto bools = NodeModel("NonZero", 13).feed(make_tensor<bool>({2, 2}, {false, true, true, false})).run();
  ASSERT_TRUE(bools.is_ok()) << bools.status().message();
  EXPECT_EQ(values_of<int64_t>(bools.value()[0]), (std::vector<int64_t>{0, 1, 1, 0}));
  auto u64 = NodeModel("NonZero", 13).feed(make_tensor<uint64_t>({3}, {0, UINT64_MAX, 0})).run();
  ASSERT_TRUE(u64.is_ok()) << u64.status().message();
  EXPECT_EQ(values_of<int64_t>(u64.value()[0]), (std::vector<int64_t>{1}));
  auto s = NodeModel("NonZero", 13).feed(scalar<int32_t>(4)).run();
  ASSERT_TRUE(s.is_ok()) << s.status().message();
  EXPECT_EQ(s.value()[0].shape(), (Shape{0, 1}));
}

}  // namespace
}  // namespace onnx_mini::testing
