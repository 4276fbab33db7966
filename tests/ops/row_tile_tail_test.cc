// The column tail (ops/row_tile_tail.*): the last few columns of a row-tile
// product with W's rows in the lanes give the bits multiply_row_tile gives,
// tile by tile, for every tile height packing chooses (8 to 12 rows, or all
// rows of a small weight), runs of tiles that start anywhere, depths from 1,
// depth chunks after the first, and every term of the register epilogue.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "ops/packed_gemm.h"
#include "ops/row_tile_tail.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini {
namespace {

std::vector<float> random_vector(int64_t n, uint32_t seed) {
  return testing::values_of<float>(testing::random_tensor(Shape{n}, seed));
}

class ColumnTail : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PackedWeights::supported()) GTEST_SKIP() << "this CPU has no AVX-512F: the column tail never runs here";
  }
};

// One product: rows of tiles [t0, t1) of group `group` of W [groups * m, k]
// against B [k, cols] (row stride ldb), over depth [k0, k0 + kc).
struct Case {
  int64_t m = 0, k = 0, groups = 1, group = 0, t0 = 0, t1 = -1, k0 = 0, kc = -1;
  bool first = true, last = true;
  int64_t cols = 1, ldb = 0;
};

struct Epilogue {
  bool row_bias = false, column_bias = false, residual = false, relu = false, clip = false;
};

// Y from multiply_row_tile tile by tile and from multiply_column_tail, both
// starting from the same Y (the partial sums a later chunk adds to).
void expect_same_bits(const Case& c, const Epilogue& ep, uint32_t seed) {
  const std::vector<float> a = random_vector(c.groups * c.m * c.k, seed);
  const PackedWeights w = PackedWeights::pack_rows(a.data(), c.groups * c.m, c.k, c.k, c.groups);
  const int64_t T = w.tile_rows(), t1 = c.t1 < 0 ? w.tiles_per_group() : c.t1;
  const int64_t kc = c.kc < 0 ? c.k - c.k0 : c.kc, ldb = c.ldb > 0 ? c.ldb : c.cols;
  const int64_t rows = std::min(t1 * T, c.m) - c.t0 * T;
  ASSERT_GT(rows, 0);
  const std::vector<float> b = random_vector(c.k * ldb, seed + 1);
  const int64_t ldy = c.cols + 3;
  std::vector<float> row_bias = random_vector(rows, seed + 2), column_bias = random_vector(c.cols, seed + 3);
  std::vector<float> residual = random_vector(rows * ldy, seed + 4);
  std::vector<float> start = random_vector(rows * ldy, seed + 5);
  // A partial sum of NaN and one of -0 (a later chunk adds to them): through
  // ReLU's and Clip's max and min as in the micro-kernel.
  start[0] = std::numeric_limits<float>::quiet_NaN();
  start.back() = -0.0f;
  std::vector<float> y_tiles = start, y_tail = start;

  RegisterEpilogue e;
  if (ep.column_bias) e.bias = column_bias.data();
  if (ep.residual) e.residual = residual.data(), e.ld_residual = ldy;
  e.relu = ep.relu;
  if (ep.clip) e.clip = true, e.clip_lo = -0.25f, e.clip_hi = 0.5f;

  for (int64_t t = c.t0; t < t1; ++t) {
    const int64_t r0 = (t - c.t0) * T;
    RowTileProduct p;
    p.a = w.row_tile(c.group, t) + c.k0 * T;
    p.a_stride = T;
    p.rows = std::min(T, rows - r0);
    p.kc = kc;
    p.cols = c.cols;
    p.b = b.data() + c.k0 * ldb;
    p.ldb = ldb;
    p.b_padded = false;
    p.y = y_tiles.data() + r0 * ldy;
    p.ldy = ldy;
    p.first = c.first;
    p.last = c.last;
    RegisterEpilogue te = e;
    if (ep.row_bias) te.row_bias = row_bias.data() + r0;
    if (ep.residual) te.residual = residual.data() + r0 * ldy;
    multiply_row_tile(p, te);
  }

  ColumnTailProduct p;
  p.a = w.row_tile(c.group, c.t0) + c.k0 * T;
  p.tile_rows = T;
  p.tile_stride = w.k() * T;
  p.rows = rows;
  p.kc = kc;
  p.b = b.data() + c.k0 * ldb;
  p.ldb = ldb;
  p.cols = c.cols;
  p.y = y_tail.data();
  p.ldy = ldy;
  p.first = c.first;
  p.last = c.last;
  if (ep.row_bias) e.row_bias = row_bias.data();
  multiply_column_tail(p, e);

  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < ldy; ++j) {
      const size_t i = static_cast<size_t>(r * ldy + j);
      uint32_t bits_tiles, bits_tail;
      std::memcpy(&bits_tiles, &y_tiles[i], 4);
      std::memcpy(&bits_tail, &y_tail[i], 4);
      ASSERT_EQ(bits_tiles, bits_tail) << "m " << c.m << " (tiles of " << T << ") k " << c.k << " tiles [" << c.t0
                                       << ", " << t1 << ") depth [" << c.k0 << ", +" << kc << ") cols " << c.cols
                                       << " row " << r << " col " << j << (j >= c.cols ? " (past the tail)" : "")
                                       << ": " << y_tiles[i] << " against " << y_tail[i];
    }
  }
}

// Every tile height packing chooses: m <= 8 is one tile of m rows; 13, 64 and
// 256 take 8, 81 9, 90 10, 88, 99 and 121 11, 192 12; 1000 (SqueezeNet's
// classifier) 10, where a 32-row block would put a vector in three tiles.
TEST_F(ColumnTail, SameBitsAsRowTilesForEveryTileHeight) {
  uint32_t seed = 1;
  for (int64_t m : {1, 5, 8, 13, 64, 81, 90, 88, 99, 121, 192, 256, 1000}) {
    for (int64_t k : {1, 2, 3, 4, 37}) {
      for (int64_t cols : {1, 4, 9, 12}) expect_same_bits({.m = m, .k = k, .cols = cols}, {}, seed++);
    }
  }
}

// Runs of tiles that start at any tile (a unit's chunk of W's rows, the runs
// pointwise_tiles makes), and a group past the first.
TEST_F(ColumnTail, RunsOfTilesAnywhere) {
  uint32_t seed = 100;
  for (int64_t m : {64, 81, 90, 121, 192, 1000}) {
    const int64_t tiles = PackedWeights::pack_rows(random_vector(m * 5, 1).data(), m, 5, 5, 1).tiles_per_group();
    for (int64_t t0 : {int64_t{0}, int64_t{1}, tiles / 2, tiles - 1}) {
      for (int64_t t1 : {t0 + 1, std::min(tiles, t0 + 3), tiles}) {
        if (t1 <= t0) continue;
        expect_same_bits({.m = m, .k = 21, .t0 = t0, .t1 = t1, .cols = 9}, {}, seed++);
        expect_same_bits({.m = m, .k = 21, .groups = 3, .group = 2, .t0 = t0, .t1 = t1, .cols = 5}, {}, seed++);
      }
    }
  }
}

// A depth chunk after the first: W and B from k0, the sums added to Y's
// partial sums (first = false), stored plain (last = false) or finished.
TEST_F(ColumnTail, LaterDepthChunksAddToThePartialSums) {
  uint32_t seed = 200;
  for (int64_t m : {8, 90, 192}) {
    for (bool last : {false, true}) {
      expect_same_bits({.m = m, .k = 600, .k0 = 512, .first = false, .last = last, .cols = 9}, {}, seed++);
      expect_same_bits({.m = m, .k = 600, .k0 = 0, .kc = 512, .first = true, .last = false, .cols = 7}, {}, seed++);
      expect_same_bits({.m = m, .k = 40, .k0 = 37, .first = false, .last = last, .cols = 12}, {}, seed++);
    }
  }
}

// B as a caller's tensor (rows a plane apart) and as a packed panel (32 floats).
TEST_F(ColumnTail, BRowStrides) {
  uint32_t seed = 300;
  for (int64_t ldb : {32, 169, 196}) expect_same_bits({.m = 100, .k = 64, .cols = 9, .ldb = ldb}, {}, seed++);
}

TEST_F(ColumnTail, EveryEpilogueTerm) {
  uint32_t seed = 400;
  const Epilogue terms[] = {{.row_bias = true},
                            {.column_bias = true},
                            {.residual = true},
                            {.relu = true},
                            {.clip = true},
                            {.row_bias = true, .residual = true, .relu = true},
                            {.row_bias = true, .column_bias = true, .residual = true, .clip = true}};
  for (const Epilogue& ep : terms) {
    for (int64_t m : {5, 64, 1000}) {
      expect_same_bits({.m = m, .k = 33, .cols = 9}, ep, seed++);
      expect_same_bits({.m = m, .k = 33, .k0 = 20, .first = false, .cols = 4}, ep, seed++);
      // Not the last chunk: the epilogue is left for later.
      expect_same_bits({.m = m, .k = 33, .last = false, .cols = 11}, ep, seed++);
    }
  }
}

}  // namespace
}  // namespace onnx_mini
