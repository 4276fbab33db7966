#include "ops/strided_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "ops/parallel.h"

namespace onnx_mini {
namespace {

// The element-by-element definition: unravel i over `shape`, sum index x stride.
std::vector<uint8_t> reference(const std::vector<uint8_t>& src, int64_t base, const Shape& shape,
                               const std::vector<int64_t>& strides, size_t es) {
  const int64_t n = num_elements(shape);
  std::vector<uint8_t> out(static_cast<size_t>(n) * es);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, offset = base;
    for (size_t d = shape.size(); d-- > 0;) {
      offset += rest % shape[d] * strides[d];
      rest /= shape[d];
    }
    std::memcpy(out.data() + static_cast<size_t>(i) * es, src.data() + static_cast<size_t>(offset) * es, es);
  }
  return out;
}

std::vector<uint8_t> bytes_counting_up(int64_t elements, size_t es) {
  std::vector<uint8_t> v(static_cast<size_t>(elements) * es);
  std::iota(v.begin(), v.end(), uint8_t{1});  // wraps every 255 bytes: element size and offset both show
  return v;
}

// Every permutation view of random shapes (rank 0-6, size-1 axes common, some
// zero-sized): what Transpose passes.
TEST(CopyStrided, PermutationsMatchTheDefinition) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t rank = rng() % 7, es = size_t{1} << (rng() % 4);
    Shape in(rank);
    for (auto& d : in) d = rng() % 5 == 0 ? 1 : 1 + static_cast<int64_t>(rng() % 6);
    if (rank > 0 && trial % 50 == 0) in[rng() % rank] = 0;
    std::vector<int64_t> perm(rank);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    const std::vector<int64_t> in_strides = strides_of(in);
    Shape out;
    std::vector<int64_t> strides;
    for (int64_t p : perm) out.push_back(in[static_cast<size_t>(p)]), strides.push_back(in_strides[static_cast<size_t>(p)]);
    const std::vector<uint8_t> src = bytes_counting_up(num_elements(in), es);
    std::vector<uint8_t> got(static_cast<size_t>(num_elements(out)) * es + 1, 0xEE);
    ASSERT_TRUE(copy_strided(src.data(), out, strides.data(), es, got.data()));
    EXPECT_EQ(got.back(), 0xEE) << "wrote past the output, trial " << trial;
    got.pop_back();
    EXPECT_EQ(got, reference(src, 0, out, strides, es)) << "trial " << trial;
  }
}

// Slice views: a start per axis and steps of either sign, some of them 1 (the
// contiguous runs the copy merges): what Slice passes.
TEST(CopyStrided, SlicesWithStepsOfEitherSignMatchTheDefinition) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    const size_t rank = 1 + rng() % 5, es = size_t{1} << (rng() % 4);
    Shape in(rank), out(rank);
    for (auto& d : in) d = 1 + static_cast<int64_t>(rng() % 7);
    const std::vector<int64_t> in_strides = strides_of(in);
    std::vector<int64_t> strides(rank);
    int64_t base = 0;
    for (size_t d = 0; d < rank; ++d) {
      constexpr int64_t kSteps[] = {-2, -1, 1, 1, 1, 2, 3};
      const int64_t s = kSteps[rng() % 7];
      const int64_t start = s > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(in[d])) : in[d] - 1;
      const int64_t room = s > 0 ? in[d] - start : start + 1;
      out[d] = 1 + (room - 1) / (s > 0 ? s : -s);
      base += start * in_strides[d];
      strides[d] = s * in_strides[d];
    }
    const std::vector<uint8_t> src = bytes_counting_up(num_elements(in), es);
    std::vector<uint8_t> got(static_cast<size_t>(num_elements(out)) * es);
    ASSERT_TRUE(copy_strided(src.data() + static_cast<size_t>(base) * es, out, strides.data(), es, got.data()));
    EXPECT_EQ(got, reference(src, base, out, strides, es)) << "trial " << trial;
  }
}

// Above the 8 axes kept on the stack, and with every axis merged into one run.
TEST(CopyStrided, HighRanksAndFullyContiguousViews) {
  const Shape in{2, 1, 3, 2, 1, 2, 3, 2, 2, 2};
  std::vector<int64_t> perm{9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  const std::vector<int64_t> in_strides = strides_of(in);
  for (int reversed = 0; reversed < 2; ++reversed) {
    if (!reversed) std::iota(perm.begin(), perm.end(), 0);
    Shape out;
    std::vector<int64_t> strides;
    for (int64_t p : perm) out.push_back(in[static_cast<size_t>(p)]), strides.push_back(in_strides[static_cast<size_t>(p)]);
    const std::vector<uint8_t> src = bytes_counting_up(num_elements(in), 4);
    std::vector<uint8_t> got(src.size());
    ASSERT_TRUE(copy_strided(src.data(), out, strides.data(), 4, got.data()));
    EXPECT_EQ(got, reference(src, 0, out, strides, 4));
    if (!reversed) {
      EXPECT_EQ(got, src);
    }
    perm = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  }
}

// Copies of 64 KiB and more are split over the pool by runs: each task starts
// its walk mid-view, so the splits land inside every outer axis.
TEST(CopyStrided, SplitOverThreadsMatchesTheDefinition) {
  ThreadPool pool(2);
  const Shape in{3, 7, 129, 65};  // 176 K elements
  const std::vector<int64_t> in_strides = strides_of(in);
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{0, 2, 1, 3}, {3, 1, 0, 2}, {1, 0, 3, 2}}) {
    for (size_t es : {size_t{2}, size_t{4}, size_t{8}}) {
      Shape out;
      std::vector<int64_t> strides;
      for (int64_t p : perm) out.push_back(in[static_cast<size_t>(p)]), strides.push_back(in_strides[static_cast<size_t>(p)]);
      const std::vector<uint8_t> src = bytes_counting_up(num_elements(in), es);
      std::vector<uint8_t> got(src.size());
      ASSERT_TRUE(copy_strided(src.data(), out, strides.data(), es, got.data(), &pool));
      EXPECT_EQ(got, reference(src, 0, out, strides, es)) << "element size " << es << ", perm " << perm[0] << perm[1]
                                                           << perm[2] << perm[3];
    }
  }
}

TEST(CopyStrided, ElementSizesOtherThan1248AreRefused) {
  const uint8_t src[48] = {};
  uint8_t dst[48];
  const int64_t stride = 1;
  EXPECT_FALSE(copy_strided(src, Shape{3}, &stride, 16, dst));
  EXPECT_FALSE(copy_strided(src, Shape{3}, &stride, 3, dst));
  EXPECT_FALSE(copy_strided(src, Shape{0}, &stride, 16, dst));
}

}  // namespace
}  // namespace onnx_mini
