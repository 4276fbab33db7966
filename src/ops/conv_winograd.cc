#include "ops/conv_winograd.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string_view>
#include <vector>

#include "ops/parallel.h"
#include "ops/scratch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_WINOGRAD 1
#else
#define ONNX_MINI_HAVE_WINOGRAD 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kVector = 16;  // tiles per vector in the transforms
constexpr int64_t kPanel = PackedWeights::kPanelCols;
// Tiles per block, from the transformed input's size: positions x C x tiles floats
// of at most 64 K floats (256 KiB, a quarter of L2) read by every row tile of
// U, within [32, 256] tiles (one micro-kernel panel at least).
constexpr int64_t kBlockFloats = int64_t{64} << 10;
constexpr int64_t kMinBlockTiles = kPanel, kMaxBlockTiles = 256;
// Products per pass over V: row tiles of U whose outputs (positions x rows x tiles
// floats) fit in 64 K floats (256 KiB, L2), so each panel of V serves them all
// from L1.
constexpr int64_t kProductFloats = int64_t{64} << 10;
// Floats between consecutive positions' matrices in the V and M buffers
// beyond their size: without it the positions of one tile lie a multiple of
// 4 KiB apart and share one L1 set (8 ways), and the transforms, which touch
// all of them at once, evict their own lines.
constexpr int64_t kSkew = 16;
// Blocks per thread from which the threads split only blocks; with fewer the
// output channels are split too (see tiling).
constexpr int64_t kMinBlocksPerThread = 2;
// Blocks per thread from which a thin last block no longer matters.
constexpr int64_t kFewBlocksPerThread = 4;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// How a run is cut: tiles per image, the padded input rows, the blocks of
// tile rows (rows run across the batch: row r is image r / tiles_h, tile row
// r % tiles_h) and the chunks of output-channel row tiles.
struct Tiling {
  // The form: out_tile x out_tile outputs per tile from in_tile x in_tile
  // inputs, positions = in_tile^2 products.
  int64_t out_tile = 2, in_tile = 4, positions = 16;
  int64_t tiles_h = 0, tiles_w = 0, rows = 0;
  int64_t padded_w = 0;  // a padded input row's floats
  int64_t block_rows = 0, blocks = 0;
  int64_t row_tiles = 0, chunks = 0;
  // Blocks split `threads` ways by output channels in the middle of the unit
  // order (see tiling), and the whole blocks before them.
  int64_t middle_blocks = 0, front_blocks = 0, threads = 1;
  // Chunk k of n: row tiles [k * row_tiles / n, (k + 1) * row_tiles / n),
  // sizes differing by at most one, so the threads' shares stay even (22 row
  // tiles in 4 chunks of ceil(22 / 4): 6, 6, 6, 4, one thread doing 12).
  int64_t chunk_begin(int64_t k, int64_t n) const { return k * row_tiles / n; }
  // Floats of one tile row's padded input patches: C channels x in_tile rows.
  int64_t patch_floats(int64_t channels) const { return channels * in_tile * padded_w; }

  int64_t units() const { return (blocks - middle_blocks) * chunks + middle_blocks * threads; }
  // Unit u's block and its row tiles [tile_begin, tile_end).
  struct Unit {
    int64_t block, tile_begin, tile_end;
  };
  Unit unit(int64_t u) const {
    const int64_t middle_units = middle_blocks * threads;
    if (middle_blocks == 0 || u < front_blocks) {
      const int64_t k = u % chunks;
      return {u / chunks, chunk_begin(k, chunks), chunk_begin(k + 1, chunks)};
    }
    if (u >= front_blocks + middle_units) return {u - middle_units + middle_blocks, 0, row_tiles};
    const int64_t i = u - front_blocks, k = i % threads;
    return {front_blocks + i / threads, chunk_begin(k, threads), chunk_begin(k + 1, threads)};
  }
};

// Tile rows per block, at most `most`. On several threads with few blocks
// each, the busiest thread's share counts: blocks of `most` rows can leave a
// thin last block (SqueezeNet's 55x55 at batch 1: 28 tile rows of 28 tiles in
// blocks of 9, 9, 9, 1, so 16 panels of GEMM on one of two threads and 9 on
// the other). Among [most / 2, most] rows, the fewest panels on the busiest
// thread (blocks of 8: 7 + 7 panels against 7 + 4), ties to the larger block;
// on one thread, with many blocks per thread, or with one block (split by
// output channels instead, see tiling), `most`.
int64_t block_rows_for(int64_t most, int64_t rows, int64_t tiles_w, int64_t threads) {
  const int64_t blocks = ceil_div(rows, most);
  if (threads == 1 || blocks == 1 || blocks >= kFewBlocksPerThread * threads) return most;
  int64_t best = most, best_load = INT64_MAX;
  for (int64_t r = most; r >= std::max<int64_t>(1, most / 2); --r) {
    const int64_t load = ceil_div(ceil_div(rows, r), threads) * ceil_div(r * tiles_w, kPanel);
    if (load < best_load) best = r, best_load = load;
  }
  return best;
}

Tiling tiling(const ConvGeometry& g, int64_t row_tiles, int64_t threads, int64_t out_tile) {
  Tiling t;
  t.out_tile = out_tile;
  t.in_tile = out_tile + 2;
  t.positions = t.in_tile * t.in_tile;
  t.tiles_h = ceil_div(g.out[1], out_tile);
  t.tiles_w = ceil_div(g.out[2], out_tile);
  t.rows = g.batch * t.tiles_h;
  // Whole tiles (out + 2 = in + pads), and more columns so that the input
  // transform's loads of 16 tiles' columns stay in the row: 2 x 16 + 2 floats
  // at 2 * tile (F(2x2)), 4 x 16 + 2 at 4 * tile (F(4x4)).
  t.padded_w = out_tile * (t.tiles_w + kVector);
  const int64_t want_tiles = std::clamp(kBlockFloats / (t.positions * g.in_channels), kMinBlockTiles, kMaxBlockTiles);
  t.block_rows = block_rows_for(std::clamp<int64_t>(want_tiles / t.tiles_w, 1, t.rows), t.rows, t.tiles_w, threads);
  t.blocks = ceil_div(t.rows, t.block_rows);
  // Few blocks (a 7x7 image at batch 1 is one): the output channels are split
  // too, into the fewest chunks that give every thread as many units, since
  // each chunk transforms the block's input again and that is not cheap: on
  // ResNet-18's 14x14 layers (two blocks on 2 threads) the input's padding
  // and transform took 13 % of the 1-thread time and twice as much CPU time
  // on 2 threads with two chunks a block (perf). One chunk a block: those 3x3s
  // 62-75 us faster each on 2 threads (whole model node sums 0.971, old and
  // new binaries, six alternated rounds), the 7x7 ones (one block, two chunks
  // rather than four) and SqueezeNet's 13x13 ones unchanged within noise.
  const int64_t chunks = threads == 1 || t.blocks >= kMinBlocksPerThread * threads
                             ? 1
                             : std::min(row_tiles, threads / std::gcd(t.blocks, threads));
  t.row_tiles = row_tiles;
  t.chunks = chunks;
  t.threads = threads;
  // Whole blocks that do not share out evenly (ResNet-18's 28x28 layers at
  // batch 1: 7 blocks, 4 on one of 2 threads and 3 on the other) leave the
  // last thread to finish a whole block alone. The leftover blocks are split by
  // output channels instead, one chunk per thread, and put where the threads'
  // ends of the unit order meet (ThreadPool deals the calling thread units
  // from the front, the others from the back): 3 whole blocks, block 3 in two
  // halves, 3 whole blocks. Only these blocks transform their input again.
  // Those three layers on 2 threads: 44-50 us faster each (0.91-0.92 of their
  // time; whole model, old and new binaries, six alternated rounds of
  // --profile: node sums -120 us of 10.3 ms). One thread is unchanged.
  if (chunks == 1 && threads > 1 && row_tiles >= threads) {
    t.middle_blocks = t.blocks % threads;
    t.front_blocks = (t.blocks - t.middle_blocks) / threads;
  }
  return t;
}

struct WinogradJob {
  const ConvGeometry* g;
  const PackedWeights* u;
  const float* w;  // the original weight [M, C, 3, 3]
  const ConvRunArgs* args;
  Tiling t;
  RegisterEpilogue form;  // activation in registers, when in_registers
  bool in_registers;
};

// The input rows of the block's tile rows [row0, row1) with their zero
// padding: for tile row r, channel c, patch row i (input row out_tile * th +
// i - pad_top), padded_w floats at patches + ((r - row0) * C + c) * in_tile *
// padded_w + i * padded_w. Copied per unit into a per-thread buffer, so the transform reads
// them from L1/L2 (a padded copy of a whole batch would not stay in cache).
void pad_block(const WinogradJob& job, int64_t row0, int64_t row1, float* patches) {
  const ConvGeometry& g = *job.g;
  const Tiling& t = job.t;
  const int64_t channels = g.in_channels, in_h = g.in[1], in_w = g.in[2], top = g.pad_begin[1], left = g.pad_begin[2];
  const size_t row_bytes = static_cast<size_t>(t.padded_w) * sizeof(float);
  for (int64_t r = row0; r < row1; ++r) {
    const int64_t n = r / t.tiles_h, th = r % t.tiles_h;
    for (int64_t c = 0; c < channels; ++c) {
      const float* plane = job.args->x + (n * channels + c) * in_h * in_w;
      float* dst = patches + ((r - row0) * channels + c) * t.in_tile * t.padded_w;
      for (int64_t i = 0; i < t.in_tile; ++i, dst += t.padded_w) {
        const int64_t h = t.out_tile * th + i - top;
        if (h < 0 || h >= in_h) {
          std::memset(dst, 0, row_bytes);
          continue;
        }
        std::memset(dst, 0, static_cast<size_t>(left) * sizeof(float));
        std::memcpy(dst + left, plane + h * in_w, static_cast<size_t>(in_w) * sizeof(float));
        std::memset(dst + left + in_w, 0, static_cast<size_t>(t.padded_w - left - in_w) * sizeof(float));
      }
    }
  }
}

// Output row i (below out_tile) of a tile row, column ow, channel m, summed directly
// from W and the tile row's padded patches: for tiles whose transformed
// result is not finite.
float direct_output(const WinogradJob& job, const float* patches, int64_t m, int64_t i, int64_t ow) {
  const int64_t channels = job.g->in_channels, row = job.t.padded_w, plane = job.t.in_tile * row;
  const float* w = job.w + m * channels * 9;
  const float* x = patches + i * row + ow;
  float sum = 0.0f;
  for (int64_t c = 0; c < channels; ++c, w += 9, x += plane) {
    for (int64_t kh = 0; kh < 3; ++kh) {
      for (int64_t kw = 0; kw < 3; ++kw) sum += w[kh * 3 + kw] * x[kh * row + kw];
    }
  }
  return sum;
}

// The products M_xi = U_xi V_xi for U's row tiles [tile0, tile1) of output
// channels against the block's `tiles` columns of V (in panels, see
// transform_input): m[xi * (rows * ldm + kSkew) + r * ldm + col], rows = the
// tiles' output channels, ldm the tiles rounded up to whole panels. Each panel of V_xi
// (C x 32) is multiplied by every row tile while it is in L1.
void multiply_tiles(const WinogradJob& job, int64_t tile0, int64_t tile1, int64_t tiles, const float* v, float* m) {
  const PackedWeights& u = *job.u;
  const int64_t channels = job.g->in_channels, T = u.tile_rows(), panels = ceil_div(tiles, kPanel);
  const int64_t ch0 = tile0 * T, rows = std::min(tile1 * T, job.g->out_channels) - ch0;
  RowTileProduct product;
  product.a_stride = T;
  product.kc = channels;
  product.ldb = kPanel;
  product.b_padded = true;
  product.ldy = panels * kPanel;
  const RegisterEpilogue none;
  for (int64_t xi = 0; xi < job.t.positions; ++xi) {
    for (int64_t p = 0; p < panels; ++p) {
      product.cols = std::min(kPanel, tiles - p * kPanel);
      product.b = v + xi * (panels * channels * kPanel + kSkew) + p * channels * kPanel;
      for (int64_t tile = tile0; tile < tile1; ++tile) {
        product.a = u.row_tile(xi, tile);
        product.rows = std::min(T, job.g->out_channels - tile * T);
        product.y = m + xi * (rows * product.ldy + kSkew) + (tile * T - ch0) * product.ldy + p * kPanel;
        multiply_row_tile(product, none);
      }
    }
  }
}

// Where a run of 16 tiles of one channel goes: image n, tile row th, first
// tile tw0, `count` tiles, y (and z) at output row out_tile * th, column
// out_tile * tw0.
struct TileRun {
  int64_t n, channel, th, tw0, count;
  float* y;
  const float* z;
  const float* patches;  // the tile row's padded input (pad_block)
  const float* bias;  // the channel's bias when added in registers, else null
};

#if ONNX_MINI_HAVE_WINOGRAD

__attribute__((target("avx512f"))) inline __mmask16 lanes(int64_t count) {
  return static_cast<__mmask16>((uint32_t{1} << std::clamp<int64_t>(count, 0, 16)) - 1);
}

// Where the input transform stores a run of 16 tiles of one position: the run's
// 16 columns may cross into the next panel, so two masked stores, the second
// based so that lane i still lands at column col + i.
struct PanelRun {
  __mmask16 masks[2];
  int64_t offsets[2];
};

__attribute__((target("avx512f"))) PanelRun panel_run(int64_t col, int64_t count, int64_t panel_stride) {
  const int64_t in_panel = col % kPanel;
  const __mmask16 mask = lanes(count), first_part = lanes(kPanel - in_panel);
  return {{static_cast<__mmask16>(mask & first_part), static_cast<__mmask16>(mask & ~first_part)},
          {(col / kPanel) * panel_stride + in_panel, (col / kPanel + 1) * panel_stride - (kPanel - in_panel)}};
}

__attribute__((target("avx512f"))) inline void store_positions(float* v, const PanelRun& run, int64_t xi_stride,
                                                               const __m512* out, int positions) {
  for (int part = 0; part < 2; ++part) {
    if (!run.masks[part]) continue;
    float* dst = v + run.offsets[part];
    for (int xi = 0; xi < positions; ++xi) _mm512_mask_storeu_ps(dst + xi * xi_stride, run.masks[part], out[xi]);
  }
}

// The even and odd floats of the 32 in a, b (a first).
__attribute__((target("avx512f"))) inline void deinterleave(__m512 a, __m512 b, __m512& even, __m512& odd) {
  even = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
  odd = _mm512_permutex2var_ps(a, _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), b);
}

// F(2x2): 16 tiles per vector, a patch row's four values per tile are the
// even and odd floats of 32 read at 2 * tile and at 2 * tile + 2.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
__attribute__((target("avx512f"))) void transform_patch_2x2(const float* patch_rows, int64_t row, __m512 out[16]) {
  __m512 h[4][4];  // d B per patch row i
  for (int i = 0; i < 4; ++i) {
    const float* p = patch_rows + i * row;
    __m512 d0, d1, d2, d3;
    deinterleave(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 16), d0, d1);
    deinterleave(_mm512_loadu_ps(p + 2), _mm512_loadu_ps(p + 18), d2, d3);
    h[i][0] = _mm512_sub_ps(d0, d2);
    h[i][1] = _mm512_add_ps(d1, d2);
    h[i][2] = _mm512_sub_ps(d2, d1);
    h[i][3] = _mm512_sub_ps(d1, d3);
  }
  for (int j = 0; j < 4; ++j) {
    out[j] = _mm512_sub_ps(h[0][j], h[2][j]);
    out[4 + j] = _mm512_add_ps(h[1][j], h[2][j]);
    out[8 + j] = _mm512_sub_ps(h[2][j], h[1][j]);
    out[12 + j] = _mm512_sub_ps(h[1][j], h[3][j]);
  }
}

// B^T x for one 6-vector x of F(4x4):
//   B^T = [4  0 -5  0 1 0;
//          0 -4 -4  1 1 0;
//          0  4 -4 -1 1 0;
//          0 -2 -1  2 1 0;
//          0  2 -1 -2 1 0;
//          0  4  0 -5 0 1]
// with the shared terms (x4 - 4 x2) +- (x3 - 4 x1) and (x4 - x2) +- 2 (x3 - x1).
__attribute__((target("avx512f"))) inline void input_rows_4x4(const __m512 x[6], __m512 y[6]) {
  const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);
  const __m512 t1 = _mm512_fnmadd_ps(four, x[2], x[4]), t2 = _mm512_fnmadd_ps(four, x[1], x[3]);
  const __m512 t3 = _mm512_sub_ps(x[4], x[2]), d = _mm512_sub_ps(x[3], x[1]), t4 = _mm512_add_ps(d, d);
  y[0] = _mm512_fnmadd_ps(five, x[2], _mm512_fmadd_ps(four, x[0], x[4]));
  y[1] = _mm512_add_ps(t1, t2);
  y[2] = _mm512_sub_ps(t1, t2);
  y[3] = _mm512_add_ps(t3, t4);
  y[4] = _mm512_sub_ps(t3, t4);
  y[5] = _mm512_fnmadd_ps(five, x[3], _mm512_fmadd_ps(four, x[1], x[5]));
}

// F(4x4): 16 tiles per vector; a patch row's six values per tile are floats
// 4 * tile + j: j = 0..3 from the 64 floats at 4 * tile0 by two levels of
// even/odd selection, j = 4 and 5 those of j = 0 and 1 one tile on (the last
// lane's from floats 64 and 65).
__attribute__((target("avx512f"))) void transform_patch_4x4(const float* patch_rows, int64_t row, __m512 out[36]) {
  __m512 h[6][6];  // d B per patch row i
  for (int i = 0; i < 6; ++i) {
    const float* p = patch_rows + i * row;
    __m512 even_lo, odd_lo, even_hi, odd_hi, d[6];  // lo, hi: floats 0-31 and 32-63
    deinterleave(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 16), even_lo, odd_lo);
    deinterleave(_mm512_loadu_ps(p + 32), _mm512_loadu_ps(p + 48), even_hi, odd_hi);
    deinterleave(even_lo, even_hi, d[0], d[2]);
    deinterleave(odd_lo, odd_hi, d[1], d[3]);
    d[4] = _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(_mm512_set1_ps(p[64])), _mm512_castps_si512(d[0]), 1));
    d[5] = _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(_mm512_set1_ps(p[65])), _mm512_castps_si512(d[1]), 1));
    input_rows_4x4(d, h[i]);
  }
  for (int j = 0; j < 6; ++j) {
    const __m512 column[6] = {h[0][j], h[1][j], h[2][j], h[3][j], h[4][j], h[5][j]};
    __m512 y[6];
    input_rows_4x4(column, y);
    for (int k = 0; k < 6; ++k) out[6 * k + j] = y[k];
  }
}

// V_xi [C, tiles] = B^T d B for the block's tile rows [row0, row1), tile
// (row, tw) in column (row - row0) * tiles_w + tw, stored as the micro-kernel
// reads it: in panels of 32 columns, panel p of V_xi the C x 32 floats at
// v + xi * (panels * C * 32 + kSkew) + p * C * 32 (one contiguous stream per
// product, not 32 floats of every row of a wide V).
template <int kOut>
__attribute__((target("avx512f"))) void transform_input(const WinogradJob& job, int64_t row0, int64_t row1,
                                                        const float* patches, float* v) {
  constexpr int kIn = kOut + 2, kPositions = kIn * kIn;
  const Tiling& t = job.t;
  const int64_t channels = job.g->in_channels;
  const int64_t tiles = (row1 - row0) * t.tiles_w, panels = ceil_div(tiles, kPanel);
  const int64_t xi_stride = panels * channels * kPanel + kSkew, panel_stride = channels * kPanel;
  for (int64_t r = row0; r < row1; ++r) {
    const float* image = patches + (r - row0) * t.patch_floats(channels);
    for (int64_t tw0 = 0; tw0 < t.tiles_w; tw0 += kVector) {
      const PanelRun run = panel_run((r - row0) * t.tiles_w + tw0, t.tiles_w - tw0, panel_stride);
      for (int64_t c = 0; c < channels; ++c) {
        const float* patch_rows = image + c * kIn * t.padded_w + kOut * tw0;
        __m512 out[kPositions];
        if constexpr (kOut == 2) {
          transform_patch_2x2(patch_rows, t.padded_w, out);
        } else {
          transform_patch_4x4(patch_rows, t.padded_w, out);
        }
        store_positions(v + c * kPanel, run, xi_stride, out, kPositions);
      }
    }
  }
  // The micro-kernel reads whole 32-column panels: zeros past the block's
  // tiles (stale floats there could be denormals, slow to multiply).
  if (tiles % kPanel == 0) return;
  for (int64_t xi = 0; xi < kPositions; ++xi) {
    float* last = v + xi * xi_stride + (panels - 1) * panel_stride + tiles % kPanel;
    for (int64_t c = 0; c < channels; ++c) {
      std::memset(last + c * kPanel, 0, static_cast<size_t>(kPanel - tiles % kPanel) * sizeof(float));
    }
  }
}

// Lanes whose outputs are not all finite are summed again directly.
template <int kOut>
__attribute__((target("avx512f"))) void redo_nonfinite(const WinogradJob& job, const TileRun& run, __mmask16 bad,
                                                       __m512 out[kOut][kOut]) {
  alignas(64) float values[kOut][kOut][kVector];
  for (int i = 0; i < kOut; ++i) {
    for (int j = 0; j < kOut; ++j) _mm512_store_ps(values[i][j], out[i][j]);
  }
  const int64_t out_h = job.g->out[1], out_w = job.g->out[2];
  for (int64_t lane = 0; lane < kVector; ++lane) {
    if (!(bad >> lane & 1)) continue;
    for (int64_t i = 0; i < kOut; ++i) {
      for (int64_t j = 0; j < kOut; ++j) {
        const int64_t oh = kOut * run.th + i, ow = kOut * (run.tw0 + lane) + j;
        if (oh < out_h && ow < out_w) values[i][j][lane] = direct_output(job, run.patches, run.channel, i, ow);
      }
    }
  }
  for (int i = 0; i < kOut; ++i) {
    for (int j = 0; j < kOut; ++j) out[i][j] = _mm512_load_ps(values[i][j]);
  }
}

// A^T x for one 4-vector x of F(2x2): A^T = [1 1 1 0; 0 1 -1 -1].
__attribute__((target("avx512f"))) inline void output_rows_2x2(const __m512 x[4], __m512 y[2]) {
  y[0] = _mm512_add_ps(_mm512_add_ps(x[0], x[1]), x[2]);
  y[1] = _mm512_sub_ps(_mm512_sub_ps(x[1], x[2]), x[3]);
}

// A^T x for one 6-vector x of F(4x4):
//   A^T = [1 1  1 1  1 0;
//          0 1 -1 2 -2 0;
//          0 1  1 4  4 0;
//          0 1 -1 8 -8 1]
// from the sums and differences x1 +- x2 and x3 +- x4.
__attribute__((target("avx512f"))) inline void output_rows_4x4(const __m512 x[6], __m512 y[4]) {
  const __m512 s1 = _mm512_add_ps(x[1], x[2]), d1 = _mm512_sub_ps(x[1], x[2]);
  const __m512 s2 = _mm512_add_ps(x[3], x[4]), d2 = _mm512_sub_ps(x[3], x[4]);
  y[0] = _mm512_add_ps(_mm512_add_ps(x[0], s1), s2);
  y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d2, d1);
  y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s2, s1);
  y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d2, d1), x[5]);
}

// Output row i of 16 tiles as kOut vectors of consecutive pixels: lane t of
// out[j] is pixel kOut * t + j.
template <int kOut>
__attribute__((target("avx512f"))) inline void interleave_row(const __m512 out[kOut], __m512 pixels[kOut]) {
  const __m512i first_half = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i second_half = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  if constexpr (kOut == 2) {
    pixels[0] = _mm512_permutex2var_ps(out[0], first_half, out[1]);
    pixels[1] = _mm512_permutex2var_ps(out[0], second_half, out[1]);
  } else {
    // Pairs (out0, out1) and (out2, out3) per tile, then the pairs of each
    // tile side by side as 64-bit elements.
    const __m512d p01[2] = {_mm512_castps_pd(_mm512_permutex2var_ps(out[0], first_half, out[1])),
                            _mm512_castps_pd(_mm512_permutex2var_ps(out[0], second_half, out[1]))};
    const __m512d p23[2] = {_mm512_castps_pd(_mm512_permutex2var_ps(out[2], first_half, out[3])),
                            _mm512_castps_pd(_mm512_permutex2var_ps(out[2], second_half, out[3]))};
    const __m512i low = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), high = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    for (int half = 0; half < 2; ++half) {
      pixels[2 * half] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01[half], low, p23[half]));
      pixels[2 * half + 1] = _mm512_castpd_ps(_mm512_permutex2var_pd(p01[half], high, p23[half]));
    }
  }
}

// A^T m A for 16 tiles of one channel (m_xi at src + xi * xi_stride), stored
// into Y's kOut output rows with the register epilogue (when in_registers).
template <int kOut>
__attribute__((target("avx512f"))) void transform_output_run(const WinogradJob& job, const float* src,
                                                             int64_t xi_stride, const TileRun& run) {
  constexpr int kIn = kOut + 2;
  const __mmask16 mask = lanes(run.count);
  __m512 rows_a[kIn][kOut];  // (m A)[a][j]
  for (int a = 0; a < kIn; ++a) {
    const float* row = src + kIn * a * xi_stride;
    __m512 m[kIn];
    for (int b = 0; b < kIn; ++b) m[b] = _mm512_maskz_loadu_ps(mask, row + b * xi_stride);
    if constexpr (kOut == 2) {
      output_rows_2x2(m, rows_a[a]);
    } else {
      output_rows_4x4(m, rows_a[a]);
    }
  }
  __m512 out[kOut][kOut];
  for (int j = 0; j < kOut; ++j) {
    __m512 column[kIn], y[kOut];
    for (int a = 0; a < kIn; ++a) column[a] = rows_a[a][j];
    if constexpr (kOut == 2) {
      output_rows_2x2(column, y);
    } else {
      output_rows_4x4(column, y);
    }
    for (int i = 0; i < kOut; ++i) out[i][j] = y[i];
  }
  // x - x is 0 for a finite x, NaN for Inf and NaN.
  const __m512 zero = _mm512_setzero_ps();
  __mmask16 bad = 0;
  for (int i = 0; i < kOut; ++i) {
    for (int j = 0; j < kOut; ++j) {
      bad |= _mm512_cmp_ps_mask(_mm512_sub_ps(out[i][j], out[i][j]), zero, _CMP_NEQ_UQ);
    }
  }
  bad &= mask;
  if (bad) redo_nonfinite<kOut>(job, run, bad, out);
  const RegisterEpilogue& e = job.form;
  const bool registers = job.in_registers;
  const __m512 bias = _mm512_set1_ps(run.bias ? *run.bias : 0.0f), lo = _mm512_set1_ps(e.clip_lo), hi = _mm512_set1_ps(e.clip_hi);
  const int64_t out_w = job.g->out[2], valid = std::min<int64_t>(kOut * kVector, out_w - kOut * run.tw0);
  const int64_t rows = std::min<int64_t>(kOut, job.g->out[1] - kOut * run.th);
  for (int64_t i = 0; i < rows; ++i) {
    __m512 pixels[kOut];
    interleave_row<kOut>(out[i], pixels);
    for (int64_t part = 0; part < kOut; ++part) {
      const int64_t offset = i * out_w + part * kVector;
      const __mmask16 part_mask = lanes(valid - part * kVector);
      __m512 v = pixels[part];
      if (registers) {
        if (run.bias) v = _mm512_add_ps(v, bias);
        if (run.z) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(part_mask, run.z + offset));
        // max(c, x) returns x when x is NaN: ReluFn's and Clip's NaN pass-through.
        if (e.relu) v = _mm512_max_ps(zero, v);
        if (e.clip) v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
      }
      _mm512_mask_storeu_ps(run.y + offset, part_mask, v);
    }
  }
}

#else

template <int kOut>
void transform_input(const WinogradJob&, int64_t, int64_t, const float*, float*) {}  // needs AVX-512F: never reached
template <int kOut>
void transform_output_run(const WinogradJob&, const float*, int64_t, const TileRun&) {}

#endif

// Y for output channels [ch0, ch0 + rows) over the block's tile rows, from
// their products m; any activation not in registers on the finished rows.
// Channel by channel, so each channel's row of every M_xi is read from start
// to end: one sequential stream per position the prefetcher follows. (Walking
// the tile rows through every channel jumped ldm floats between runs, and the
// loads waited on L2.)
template <int kOut>
void transform_output(const WinogradJob& job, int64_t ch0, int64_t rows, int64_t row0, int64_t row1,
                      const float* patches, const float* m, int64_t ldm) {
  const ConvGeometry& g = *job.g;
  const Tiling& t = job.t;
  const ConvRunArgs& args = *job.args;
  const int64_t out_w = g.out[2], pixels = g.out_pixels();
  // Where tile row r's output rows of channel ch0 start in Y.
  auto first_of = [&](int64_t r) {
    return (r / t.tiles_h * g.out_channels + ch0) * pixels + kOut * (r % t.tiles_h) * out_w;
  };
  for (int64_t ch = 0; ch < rows; ++ch) {
    for (int64_t r = row0; r < row1; ++r) {
      const int64_t n = r / t.tiles_h, th = r % t.tiles_h, col_base = (r - row0) * t.tiles_w;
      const int64_t offset = first_of(r) + ch * pixels;
      for (int64_t tw0 = 0; tw0 < t.tiles_w; tw0 += kVector) {
        const int64_t at = offset + kOut * tw0;
        const TileRun run{n,
                          ch0 + ch,
                          th,
                          tw0,
                          std::min(kVector, t.tiles_w - tw0),
                          args.y + at,
                          args.z ? args.z + at : nullptr,
                          patches + (r - row0) * t.patch_floats(g.in_channels),
                          job.in_registers && args.bias ? args.bias + ch0 + ch : nullptr};
        transform_output_run<kOut>(job, m + ch * ldm + col_base + tw0, rows * ldm + kSkew, run);
      }
    }
  }
  if (job.in_registers) return;
  for (int64_t r = row0; r < row1; ++r) {
    const int64_t first = first_of(r), values = std::min<int64_t>(kOut, g.out[1] - kOut * (r % t.tiles_h)) * out_w;
    args.epilogue->apply(args.y + first, pixels, rows, values, args.bias ? args.bias + ch0 : nullptr,
                         args.z ? args.z + first : nullptr, pixels);
  }
}

// A unit: one block of tile rows, one chunk of U's row tiles.
template <int kOut>
void winograd_unit(const void* context, int64_t unit) {
  const WinogradJob& job = *static_cast<const WinogradJob*>(context);
  const Tiling& t = job.t;
  const Tiling::Unit u = t.unit(unit);
  const int64_t block = u.block;
  const int64_t row0 = block * t.block_rows, row1 = std::min(t.rows, row0 + t.block_rows);
  const int64_t tiles = (row1 - row0) * t.tiles_w, ldm = ceil_div(tiles, kPanel) * kPanel;
  // Per-thread scratch (64-byte aligned: the micro-kernel's aligned loads of a panel).
  float* patches = thread_scratch(ScratchSlot::kWinogradPatches, (row1 - row0) * t.patch_floats(job.g->in_channels));
  pad_block(job, row0, row1, patches);
  float* v = thread_scratch(ScratchSlot::kWinogradV, t.positions * (job.g->in_channels * ldm + kSkew));
  const int64_t T = job.u->tile_rows(), group = std::max<int64_t>(1, kProductFloats / (t.positions * T * ldm));
  float* m = thread_scratch(ScratchSlot::kWinogradM, t.positions * (group * T * ldm + kSkew));
  transform_input<kOut>(job, row0, row1, patches, v);
  const int64_t tile_end = u.tile_end;
  for (int64_t tile = u.tile_begin; tile < tile_end; tile += group) {
    const int64_t tile1 = std::min(tile_end, tile + group);
    multiply_tiles(job, tile, tile1, tiles, v, m);
    const int64_t ch0 = tile * T;
    transform_output<kOut>(job, ch0, std::min(tile1 * T, job.g->out_channels) - ch0, row0, row1, patches, m, ldm);
  }
}

// G for F(2x2) and F(4x4), rows of the in_tile x 3 matrix.
constexpr double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
constexpr double kG4[6][3] = {{1.0 / 4, 0, 0},
                              {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                              {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                              {1.0 / 24, 1.0 / 12, 1.0 / 6},
                              {1.0 / 24, -1.0 / 12, 1.0 / 6},
                              {0, 0, 1}};

// U = G g G^T for one 3x3 kernel g, in double (rounded once by the caller);
// u[in_tile * i + j]. Zero entries of G add no term, so F(2x2)'s U is
// (g0 +- g1 + g2) / 2 and the like exactly.
void transform_weight(const float* g, int64_t in_tile, double* u) {
  const double(*G)[3] = in_tile == 4 ? kG2 : kG4;
  double gg[6][3];  // G g
  for (int64_t i = 0; i < in_tile; ++i) {
    for (int j = 0; j < 3; ++j) {
      double sum = 0;
      bool any = false;
      for (int k = 0; k < 3; ++k) {
        if (G[i][k] == 0) continue;
        sum = any ? sum + G[i][k] * g[3 * k + j] : G[i][k] * g[3 * k + j];
        any = true;
      }
      gg[i][j] = sum;
    }
  }
  for (int64_t i = 0; i < in_tile; ++i) {
    for (int64_t j = 0; j < in_tile; ++j) {
      double sum = 0;
      bool any = false;
      for (int k = 0; k < 3; ++k) {
        if (G[j][k] == 0) continue;
        sum = any ? sum + gg[i][k] * G[j][k] : gg[i][k] * G[j][k];
        any = true;
      }
      u[in_tile * i + j] = sum;
    }
  }
}

bool all_ones(const std::vector<int64_t>& v) {
  return std::all_of(v.begin(), v.end(), [](int64_t x) { return x == 1; });
}

}  // namespace


namespace {

// ONNX_MINI_WINOGRAD, read at session build: "0" off, "2" F(2x2) only.
std::string_view winograd_setting() {
  const char* v = std::getenv("ONNX_MINI_WINOGRAD");
  return v ? std::string_view(v) : std::string_view();
}

}  // namespace

bool WinogradConv::enabled() { return PackedWeights::enabled() && winograd_setting() != "0"; }

bool WinogradConv::can_run(const Tensor& w, const ConvAttributes& attrs) {
  if (w.dtype() != DataType::kFloat || w.rank() != 4 || w.dim(2) != 3 || w.dim(3) != 3) return false;
  if (attrs.group != 1 || !all_ones(attrs.strides) || !all_ones(attrs.dilations)) return false;
  const float* p = w.data<float>();
  return std::all_of(p, p + w.num_elements(), [](float x) { return std::isfinite(x); });
}

int64_t WinogradConv::out_tile_for(const Tensor& w, const ConvAttributes& attrs, const TensorInfo* x) {
  if (!enabled() || !can_run(w, attrs)) return 0;
  const bool shaped = x && x->has_shape && x->dims.size() == 4;
  auto known_below = [&](int axis, int64_t size) { return shaped && x->dims[axis].known() && x->dims[axis].value < size; };
  const int64_t out_channels = w.dim(0), channels = w.dim(1);
  const bool narrow = known_below(3, kNarrowImage);
  if (known_below(2, kMinImage) || known_below(3, kMinImage)) return 0;
  if (known_below(2, kMinImageLarge) || known_below(3, kMinImageLarge)) {
    if (out_channels < kMinChannelsSmall || channels < kMinChannelsSmall) return 0;
    return narrow && channels < kMinChannelsSmallNarrow ? 0 : 2;
  }
  if (out_channels < kMinChannels || channels < kMinChannels) return 0;
  if (narrow && channels < kMinChannelsNarrow) return 0;
  return winograd_setting() == "2" ? 2 : 4;
}

Status WinogradConv::init(const Tensor& w, int64_t out_tile) {
  out_tile_ = out_tile;
  const int64_t out_channels = w.dim(0), channels = w.dim(1), in_tile = out_tile_ + 2;
  const int64_t positions = in_tile * in_tile;
  // U as [positions * M, C]: block xi holds U_xi, packed as one group of M
  // rows per position.
  std::vector<float> u(static_cast<size_t>(positions * out_channels * channels));
  const float* g = w.data<float>();
  for (int64_t m = 0; m < out_channels; ++m) {
    for (int64_t c = 0; c < channels; ++c) {
      double kernel_u[36];
      transform_weight(g + (m * channels + c) * 9, in_tile, kernel_u);
      for (int64_t xi = 0; xi < positions; ++xi) {
        u[static_cast<size_t>((xi * out_channels + m) * channels + c)] = static_cast<float>(kernel_u[xi]);
      }
    }
  }
  u_ = PackedWeights::pack_rows(u.data(), positions * out_channels, channels, channels, positions);
  return Status::ok();
}

void WinogradConv::run(const ConvGeometry& g, const float* w, const ConvRunArgs& args) const {
  if (g.batch == 0 || g.out_pixels() == 0) return;
  WinogradJob job{&g, &u_, w, &args, {}, {}, false};
  job.t = tiling(g, u_.tiles_per_group(), args.pool ? args.pool->num_threads() : 1, out_tile_);
  job.in_registers = args.epilogue->register_form(&job.form);
  for_each_task(args.pool, job.t.units(), out_tile_ == 4 ? winograd_unit<4> : winograd_unit<2>, &job);
}

}  // namespace onnx_mini
