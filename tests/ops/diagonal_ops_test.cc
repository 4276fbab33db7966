// Trilu and EyeLike against index-by-index references, every k from far below
// to far above the matrix, dtypes of every element size, and their errors.
#include <gtest/gtest.h>

#include <limits>

#include "core/half.h"
#include "tests/testutil/node_model.h"

namespace onnx_mini::testing {
namespace {

// Element (i, j) of each matrix kept by torch.triu(x, k) (upper) or torch.tril(x, k).
bool kept(int64_t i, int64_t j, int64_t k, bool upper) { return upper ? j - i >= k : j - i <= k; }

TEST(Trilu, EveryDiagonalOffsetAgainstTheDefinition) {
  const Shape shape = {2, 3, 5};  // two 3x5 matrices
  std::vector<int32_t> x(30);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int32_t>(i) + 1;
  for (int upper = 0; upper <= 1; ++upper) {
    for (int64_t k : {int64_t{-9}, int64_t{-3}, int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{4}, int64_t{5}, int64_t{9},
                      std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
      auto out = NodeModel("Trilu", 14).feed(make_tensor<int32_t>(shape, x)).feed(scalar<int64_t>(k)).attr_int("upper", upper).run();
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      const auto y = values_of<int32_t>(out.value()[0]);
      for (int64_t m = 0; m < 2; ++m) {
        for (int64_t i = 0; i < 3; ++i) {
          for (int64_t j = 0; j < 5; ++j) {
            const size_t at = static_cast<size_t>((m * 3 + i) * 5 + j);
            EXPECT_EQ(y[at], kept(i, j, k, upper) ? x[at] : 0) << "upper " << upper << " k " << k << " at " << i << "," << j;
          }
        }
      }
    }
  }
}

TEST(Trilu, DefaultsAreUpperAndTheMainDiagonal) {
  auto out = NodeModel("Trilu", 14).feed(make_tensor({2, 2}, {1, 2, 3, 4})).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  EXPECT_EQ(values_of<float>(out.value()[0]), (std::vector<float>{1, 2, 0, 4}));
}

TEST(Trilu, MovesElementsOfEverySizeUnchanged) {
  // float16 stays float16 (no round trip through float32), bool and double too.
  const uint16_t h[4] = {float_to_half(1.5f), float_to_half(-2.f), float_to_half(65504.f), float_to_half(3.f)};
  Tensor half = Tensor::allocate(DataType::kFloat16, {2, 2});
  std::memcpy(half.raw_data(), h, sizeof h);
  auto out = NodeModel("Trilu", 14).feed(half).attr_int("upper", 0).run();
  ASSERT_TRUE(out.is_ok()) << out.status().message();
  ASSERT_EQ(out.value()[0].dtype(), DataType::kFloat16);
  const auto* y = out.value()[0].data<uint16_t>();
  EXPECT_EQ(y[0], h[0]);
  EXPECT_EQ(y[1], 0);
  EXPECT_EQ(y[2], h[2]);
  EXPECT_EQ(y[3], h[3]);
  auto b = NodeModel("Trilu", 14).feed(make_tensor<bool>({2, 2}, {true, true, true, true})).run();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(values_of<bool>(b.value()[0]), (std::vector<bool>{true, true, false, true}));
  auto d = NodeModel("Trilu", 14).feed(make_tensor<double>({1, 3}, {1, 2, 3})).feed(scalar<int64_t>(1)).run();
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(values_of<double>(d.value()[0]), (std::vector<double>{0, 2, 3}));
}

TEST(Trilu, EmptyMatricesAndOneElementKFromA1DTensor) {
  auto empty = NodeModel("Trilu", 14).feed(make_tensor({3, 0, 4}, {})).run();
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_EQ(empty.value()[0].shape(), (Shape{3, 0, 4}));
  auto k1d = NodeModel("Trilu", 14).feed(make_tensor({2, 2}, {1, 2, 3, 4})).feed(ints({-1})).attr_int("upper", 0).run();
  ASSERT_TRUE(k1d.is_ok()) << k1d.status().message();
  EXPECT_EQ(values_of<float>(k1d.value()[0]), (std::vector<float>{0, 0, 3, 0}));
}

TEST(Trilu, ErrorsNameWhatIsWrong) {
  auto rank1 = NodeModel("Trilu", 14).feed(make_tensor({3}, {1, 2, 3})).run();
  ASSERT_FALSE(rank1.is_ok());
  EXPECT_NE(rank1.status().message().find("rank >= 2"), std::string::npos) << rank1.status().message();
  auto upper = NodeModel("Trilu", 14).feed(make_tensor({1, 1}, {1})).attr_int("upper", 2).run();
  ASSERT_FALSE(upper.is_ok());
  EXPECT_EQ(upper.status().code(), ErrorCode::kInvalidModel);
  auto two_ks = NodeModel("Trilu", 14).feed(make_tensor({1, 1}, {1})).feed(ints({1, 2})).run();
  ASSERT_FALSE(two_ks.is_ok());
  EXPECT_EQ(two_ks.status().code(), ErrorCode::kBadInput);
  EXPECT_NE(two_ks.status().message().find("'k'"), std::string::npos);
  auto int32_k = NodeModel("Trilu", 14).feed(make_tensor({1, 1}, {1})).feed(scalar<int32_t>(1)).run();
  ASSERT_FALSE(int32_k.is_ok());
  EXPECT_EQ(int32_k.status().code(), ErrorCode::kInvalidModel);
}

TEST(EyeLike, OnesOnTheKthDiagonalOnly) {
  for (int64_t k : {int64_t{-4}, int64_t{-1}, int64_t{0}, int64_t{2}, int64_t{5}, std::numeric_limits<int64_t>::max(),
                    std::numeric_limits<int64_t>::min()}) {
    auto out = NodeModel("EyeLike", 9).feed(make_tensor<int64_t>({3, 5}, std::vector<int64_t>(15, 7))).attr_int("k", k).run();
    ASSERT_TRUE(out.is_ok()) << out.status().message();
    ASSERT_EQ(out.value()[0].dtype(), DataType::kInt64);
    const auto y = values_of<int64_t>(out.value()[0]);
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(y[static_cast<size_t>(i * 5 + j)], j - i == k ? 1 : 0) << "k " << k;
    }
  }
}

TEST(EyeLike, DtypeAttributeGivesTheOutputType) {
  auto f = NodeModel("EyeLike", 9).feed(make_tensor<int32_t>({2, 2}, {5, 5, 5, 5})).attr_int("dtype", 1).run();
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  EXPECT_EQ(values_of<float>(f.value()[0]), (std::vector<float>{1, 0, 0, 1}));
  auto h = NodeModel("EyeLike", 9).feed(make_tensor({1, 2}, {0, 0})).attr_int("dtype", 10).run();
  ASSERT_TRUE(h.is_ok()) << h.status().message();
  ASSERT_EQ(h.value()[0].dtype(), DataType::kFloat16);
  EXPECT_EQ(h.value()[0].data<uint16_t>()[0], 0x3C00);  // 1.0 in binary16
  EXPECT_EQ(h.value()[0].data<uint16_t>()[1], 0);
  auto b = NodeModel("EyeLike", 9).feed(make_tensor({2, 1}, {0, 0})).attr_int("dtype", 9).run();
  ASSERT_TRUE(b.is_ok()) << b.status().message();
  EXPECT_EQ(values_of<bool>(b.value()[0]), (std::vector<bool>{true, false}));
}

TEST(EyeLike, ErrorsNameWhatIsWrong) {
  auto rank3 = NodeModel("EyeLike", 9).feed(make_tensor({1, 1, 1}, {0})).run();
  ASSERT_FALSE(rank3.is_ok());
  EXPECT_NE(rank3.status().message().find("2-D"), std::string::npos);
  auto bf16 = NodeModel("EyeLike", 9).feed(make_tensor({1, 1}, {0})).attr_int("dtype", 16).run();
  ASSERT_FALSE(bf16.is_ok());
  EXPECT_EQ(bf16.status().code(), ErrorCode::kInvalidModel);
  auto string = NodeModel("EyeLike", 9).feed(make_tensor({1, 1}, {0})).attr_int("dtype", 8).run();
  ASSERT_FALSE(string.is_ok());
  EXPECT_EQ(string.status().code(), ErrorCode::kInvalidModel);
  auto huge = NodeModel("EyeLike", 9).feed(make_tensor({1, 1}, {0})).attr_int("dtype", int64_t{1} << 40).run();
  ASSERT_FALSE(huge.is_ok());
  EXPECT_EQ(huge.status().code(), ErrorCode::kInvalidModel);
}

}  // namespace
}  // namespace onnx_mini::testing
