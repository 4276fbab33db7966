// First-fit offsets in one block (runtime/block_offsets.h).
#include "runtime/block_offsets.h"

#include <gtest/gtest.h>

namespace onnx_mini {
namespace {

TEST(BlockOffsets, SizesRoundUpToWholeCacheLinesAndAtLeastOne) {
  BlockOffsets b;
  EXPECT_EQ(b.place(1), 0);
  EXPECT_EQ(b.size_at(0), 64);
  EXPECT_EQ(b.place(0), 64) << "an empty value still takes a line: no two live values start together";
  EXPECT_EQ(b.place(65), 128);
  EXPECT_EQ(b.size_at(128), 128);
  EXPECT_EQ(b.place(64), 256);
  EXPECT_EQ(b.high_water(), 320);
  EXPECT_EQ(b.size_at(32), 0) << "not the start of a value";
}

TEST(BlockOffsets, ADeadValuesPlaceGoesToTheNextThatFits) {
  BlockOffsets b;
  const int64_t a = b.place(1000);  // [0, 1024)
  const int64_t c = b.place(500);   // [1024, 1536)
  EXPECT_EQ(a, 0);
  EXPECT_EQ(c, 1024);
  b.release(a);
  EXPECT_EQ(b.place(2000), 1536) << "the gap before c is too small";
  EXPECT_EQ(b.place(1024), 0) << "the lowest gap that holds it";
  EXPECT_EQ(b.place(64), 3584) << "no gap left below the last value";
  EXPECT_EQ(b.high_water(), 3648);
  EXPECT_EQ(b.live_count(), 4u);
}

TEST(BlockOffsets, ReleaseFreesExactlyTheValueAtThatOffset) {
  BlockOffsets b;
  b.place(64);   // 0
  b.place(128);  // 64
  b.place(64);   // 192
  b.release(100);  // inside a value, not its start: nothing
  b.release(4096);
  EXPECT_EQ(b.live_count(), 3u);
  b.release(64);
  EXPECT_EQ(b.live_count(), 2u);
  EXPECT_EQ(b.size_at(64), 0);
  EXPECT_EQ(b.place(64), 64);
  EXPECT_EQ(b.place(64), 128);
  EXPECT_EQ(b.place(64), 256);
}

TEST(BlockOffsets, ClearEndsTheRunButKeepsTheHighWaterMark) {
  BlockOffsets b;
  b.place(4096);
  b.place(4096);
  b.clear();
  EXPECT_EQ(b.live_count(), 0u);
  EXPECT_EQ(b.high_water(), 8192);
  EXPECT_EQ(b.place(64), 0);
  EXPECT_EQ(b.high_water(), 8192);
  b.reset_high_water();
  EXPECT_EQ(b.high_water(), 0);
}

TEST(BlockOffsets, NegativeOrHugeSizesAreNotPlaced) {
  BlockOffsets b;
  EXPECT_EQ(b.place(-1), -1);
  EXPECT_EQ(b.place(BlockOffsets::kMaxBytes + 1), -1);
  EXPECT_EQ(b.live_count(), 0u);
  EXPECT_EQ(b.place(BlockOffsets::kMaxBytes), 0);
  EXPECT_EQ(b.place(BlockOffsets::kMaxBytes), BlockOffsets::kMaxBytes) << "ends below 2^50: no overflow";
}

// Against a brute-force model: after any sequence of places and releases, live
// values never overlap, each starts at the lowest aligned offset where it fit.
TEST(BlockOffsets, RandomSequencesMatchABruteForceFirstFit) {
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int trial = 0; trial < 200; ++trial) {
    BlockOffsets b;
    std::vector<std::pair<int64_t, int64_t>> live;  // [begin, end)
    for (int op = 0; op < 60; ++op) {
      if (!live.empty() && next() % 3 == 0) {
        const size_t k = next() % live.size();
        b.release(live[k].first);
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
        continue;
      }
      const int64_t bytes = static_cast<int64_t>(next() % 700);
      const int64_t need = std::max<int64_t>(64, (bytes + 63) / 64 * 64);
      int64_t expected = 0;
      for (;; expected += 64) {
        bool free = true;
        for (auto [lo, hi] : live) free = free && (expected + need <= lo || expected >= hi);
        if (free) break;
      }
      ASSERT_EQ(b.place(bytes), expected) << "trial " << trial << " op " << op;
      live.push_back({expected, expected + need});
    }
    EXPECT_EQ(b.live_count(), live.size());
  }
}

}  // namespace
}  // namespace onnx_mini
