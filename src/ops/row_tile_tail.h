// The last few columns of a row-tile product (ops/packed_gemm.h's
// multiply_row_tile) with the rows in the lanes instead of the columns.
//
// A 1x1 convolution's pointwise form puts output pixels in the lanes, 32 a
// call; an image of 169 pixels (13x13) ends with 9 pixels in a 16-lane call
// that costs as much as 16, for every row tile of W. SqueezeNet's 512 -> 1000
// classifier spent 10 % of its time there, its 512 -> 64 squeeze 13 %. Here
// those columns are broadcast instead and 32 output channels fill the lanes:
// each vector of 16 channels is read from W's packed row tiles (a load from
// each of the two tiles its rows lie in, merged by a permute), so no second
// copy of W is needed, and the tiles are still in cache from the calls that
// did the other columns.
//
// Every element gets the same operations in the same order as from
// multiply_row_tile (a fused multiply-add per depth step from zero, the
// partial sums of earlier chunks added, then the register epilogue), so the
// two give the same bits.
#pragma once

#include <cstdint>

#include "ops/packed_gemm.h"

namespace onnx_mini {

// Columns up to this take the column tail: 12 columns x 2 vectors of rows are
// 24 accumulators, as the micro-kernel's 12 x 2.
inline constexpr int64_t kMaxColumnTailCols = 12;

// Y [rows, cols] (+)= A [rows, kc] * B [kc, cols], the fields as in
// RowTileProduct: A rows [0, rows) of consecutive row tiles of a kRowTiles
// weight, `a` pointing at depth k0 of the first (PackedWeights::row_tile(g,
// t) + k0 * tile_rows), the next tile `tile_stride` floats further (its k *
// tile_rows). Whole 16-float loads read rows next to the ones used, always
// inside the weight's storage (never past it: see masked_steps). B row p at b + p * ldb, `cols` floats of each readable; Y row r
// at y + r * ldy. first: Y starts from zero, else the sums are added to the
// partial sums in y; last: the stored values are final and get `epilogue`
// (its pointers at Y's origin). Needs PackedWeights::supported(), 1 <= cols
// <= kMaxColumnTailCols, tile_rows >= 8 or rows <= tile_rows, rows, kc >= 1.
struct ColumnTailProduct {
  const float* a = nullptr;
  int64_t tile_rows = 0, tile_stride = 0;
  int64_t rows = 0, kc = 0;
  const float* b = nullptr;
  int64_t ldb = 0, cols = 0;
  float* y = nullptr;
  int64_t ldy = 0;
  bool first = true, last = true;
};
void multiply_column_tail(const ColumnTailProduct& product, const RegisterEpilogue& epilogue);

// The rows multiply_column_tail takes together (two vectors' worth) for tiles
// of tile_rows rows: 32, or as many whole tiles as fit in 32 (30 rows for
// tiles of 10), so that no vector's rows lie in more than two tiles. A
// caller's runs of tiles that fill whole blocks leave no lanes idle but the
// blocks' own.
int64_t column_tail_block_rows(int64_t tile_rows);

}  // namespace onnx_mini
