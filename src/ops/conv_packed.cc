#include "ops/conv_packed.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/conv_patch_panel.h"
#include "ops/conv_phase_planes.h"
#include "ops/conv_pixel_panels.h"
#include "ops/padded_row.h"
#include "ops/parallel.h"
#include "ops/row_tile_tail.h"
#include "ops/scratch.h"
#include "ops/simd_transpose.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_CONV_KERNELS 1
#else
#define ONNX_MINI_HAVE_CONV_KERNELS 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kPanel = PackedWeights::kPanelCols;
constexpr int64_t kTileRows = PackedWeights::kMaxTileRows;
// Depth per pass of the pointwise form: up to 512 rows of X's 32-pixel panel
// (64 KiB, L2) are read by every row tile of W. A second pass stores and
// reloads every partial sum of Y; SqueezeNet's 512 -> 1000 classifier at 13x13
// took 0.90 of its time in one pass of 512 rather than two of 256 (--profile,
// batch 1, 1 thread, pinned, two rounds: 887-895 us against 977-991), whole
// SqueezeNet 0.98 at batch 1 and 8 (1 thread, pinned, 5-7 alternated rounds),
// the other 1x1 shapes of bench_conv with K above 256 unchanged or a few
// percent faster.
constexpr int64_t kPointwiseDepth = 512;
// Pixels per pointwise block, as floats of X per depth chunk: 16 K floats
// (64 KiB, L2) read by every row tile of W in turn; 512 pixels at depth 32,
// one 32-pixel panel at depth 512.
constexpr int64_t kPointwiseBlockFloats = int64_t{16} << 10;
// Unless W's depth chunk (mg x kc floats) is larger than L2 (SqueezeNet's
// 1000 x 512 classifier, 2 MiB): with one panel per block it would stream
// from L3 once per panel, so the block grows to 128 K floats of X (512 KiB,
// all six panels of the classifier's 13x13 image), each row tile of W then
// read once per block and kept in L1 across its panels. The classifier took
// 991 us against 1020 on 1 thread (pinned) and 577 against 625 on 2 (batch 1,
// --profile, medians of six alternated rounds).
constexpr int64_t kPointwiseLargeWeightFloats = int64_t{256} << 10;
constexpr int64_t kPointwiseLargeBlockFloats = int64_t{128} << 10;
// Depth per pass of the gathered form: the weight panel's chunk (kc x 32
// floats, 24 KiB) stays in L1 while every pixel tile of the block streams past it.
constexpr int64_t kGatheredDepth = 192;
// Output pixels per gathered work unit: 8 tiles of 12, whose partial sums
// (8 x 12 x 32 floats, 12 KiB) stay in L1 across depth chunks.
constexpr int64_t kBlockPixels = 96;
// Units each thread should get at least, so uneven unit times even out.
constexpr int64_t kUnitsPerThread = 4;
// Gathered units a thread keeps on 2 or more threads when a unit takes
// several weight panels of its block (so that the threads end together to
// within a small unit). A unit works out its block's pixel pointers and tile
// plan once for all its panels: SqueezeNet's 3x3s at 55x55, 27x27 and 13x13
// (2, 4 and 8 panels) cut out took 0.988, 0.987 and 0.981 of their time on 1
// thread with every panel in one unit (six alternated rounds of 2000 runs);
// whole SqueezeNet 0.993 on 1 thread and 0.994 on 2 (its 55x55 layers two
// panels a unit there; eight rounds), ResNet-18 0.987 on 1 (four).
constexpr int64_t kMinGatheredUnitsPerThread = 16;
// The zero-bordered copy of a batch of at least one image per thread is split
// over the threads by image from this size (in floats, 32 KiB). The threshold
// was measured for the channel-plane split the copy of one image had before
// (see own_padded_rows): from 64 K floats, ResNet-18's 512-channel 7x7 3x3
// layers (41 K floats padded) took 952, 919 and 946 us on 2 threads against
// 857, 858 and 911 from 8 K (five alternated rounds).
constexpr int64_t kPadSplitFloats = int64_t{8} << 10;

// Rows of the next tile of a band of `left` rows: full tiles, but never a thin
// last one (12 + 4 remaining rows become 8 + 8, as in the packed GEMM).
int64_t next_tile_rows(int64_t left) {
  return left >= 2 * kTileRows || left <= kTileRows ? std::min(kTileRows, left) : (left + 1) / 2;
}

int64_t threads_of(ThreadPool* pool) { return pool ? pool->num_threads() : 1; }

// Equal depth chunks of at most `most` (784 = 4 x 196, not 3 x 256 + 16: a thin
// last chunk costs a full reload and store of the partial sums for little work).
int64_t depth_chunk(int64_t k, int64_t most) {
  const int64_t chunks = (k + most - 1) / most;
  return (k + chunks - 1) / chunks;
}

// ---------------------------------------------------------------------------
// Pointwise: Y_g [Mg, P] = W_g [Mg, Cg] * X_g [Cg, P] per image, X read in place.

struct PointwiseJob {
  const ConvGeometry* g;
  const PackedWeights* w;
  const ConvRunArgs* args;
  PixelPanels panels;  // X's pixels in panels, when `packed`; else X is read in place
  bool packed;
  // Pixels per micro-kernel call: 48 or a panel's 32 (see run_pointwise).
  int64_t call_cols;
  int64_t blocks, block_panels, tile_chunks, tiles_per_chunk;
  RegisterEpilogue form;  // activation in registers, when in_registers
  bool in_registers;
  // Depth per pass of pointwise_unit; in a depth split (see run_pointwise)
  // part p sums input channels [p * chunk_depth, (p + 1) * chunk_depth) into
  // Y (part 0) or partials[p - 1].
  int64_t chunk_depth = 0, parts = 1;
  float* partials = nullptr;  // [parts - 1][N][M][P]
};

// Where one depth range of a pointwise product goes: Y or a partial sum, and
// whether the range ends the sum (the epilogue runs).
struct DepthRange {
  int64_t begin, end;
  float* y;  // laid out as Y
  bool completes;
};

// The epilogue the micro-kernels apply to output rows from channel ch0 at
// Y's element `offset`: bias and skip tensor from there, when it runs in
// registers (else none: see apply_epilogue).
RegisterEpilogue register_epilogue(const PointwiseJob& job, int64_t ch0, int64_t offset) {
  RegisterEpilogue e = job.in_registers ? job.form : RegisterEpilogue{};
  if (job.in_registers) {
    const ConvRunArgs& args = *job.args;
    if (args.bias) e.row_bias = args.bias + ch0;
    if (args.z) e.residual = args.z + offset, e.ld_residual = job.g->out_pixels();
  }
  return e;
}

// The epilogue that does not run in registers, over finished output rows.
void apply_epilogue(const PointwiseJob& job, int64_t ch0, int64_t offset, int64_t rows, int64_t cols) {
  const ConvRunArgs& args = *job.args;
  const int64_t P = job.g->out_pixels();
  args.epilogue->apply(args.y + offset, P, rows, cols, args.bias ? args.bias + ch0 : nullptr,
                       args.z ? args.z + offset : nullptr, P);
}

// One row tile of W against the pixels [col_begin, col_end) of X, over one
// depth chunk [k0, k0 + kc) of `range`.
void pointwise_tile(const PointwiseJob& job, int64_t n, int64_t group, int64_t t, int64_t col_begin, int64_t col_end,
                    int64_t k0, int64_t kc, const DepthRange& range) {
  const ConvGeometry& g = *job.g;
  const PackedWeights& w = *job.w;
  const ConvRunArgs& args = *job.args;
  const int64_t P = g.out_pixels(), cg = g.in_group_channels(), mg = g.out_group_channels();
  const int64_t T = w.tile_rows(), row0 = t * T, rows = std::min(T, mg - row0), ch0 = group * mg + row0;
  // In place (stride 1, so the input plane is P pixels too): row k0 of the group.
  const float* x = job.packed ? nullptr : args.x + (n * g.in_channels + group * cg + k0) * P;
  const bool last = k0 + kc == range.end && range.completes;
  RowTileProduct product;
  product.a = w.row_tile(group, t) + k0 * T;
  product.a_stride = T;
  product.rows = rows;
  product.kc = kc;
  product.ldb = job.packed ? kPanel : P;
  product.b_padded = job.packed;
  product.ldy = P;
  product.first = k0 == range.begin;
  product.last = last;
  for (int64_t col0 = col_begin; col0 < col_end; col0 += job.call_cols) {
    const int64_t offset = (n * g.out_channels + ch0) * P + col0;
    product.cols = std::min(job.call_cols, col_end - col0);
    product.b = job.packed ? job.panels.panel(n, group, col0 / kPanel) + k0 * kPanel : x + col0;
    product.y = range.y + offset;
    multiply_row_tile(product, register_epilogue(job, ch0, offset));
    if (last && !job.in_registers) apply_epilogue(job, ch0, offset, rows, product.cols);
  }
}

// The pixels [begin, end) of a block that multiply_column_tail takes: those of
// its last call, when there are at most kMaxColumnTailCols (169 pixels: 9
// past five calls of 32). The rest go to pointwise_tile.
int64_t column_tail(const PointwiseJob& job, int64_t begin, int64_t end) {
  const int64_t rest = (end - begin) % job.call_cols;
  return rest <= kMaxColumnTailCols ? rest : 0;
}

// Tiles per call of pointwise_column_tail: whole blocks of its rows, at least
// 64 (tiles of 8 rows: 8; of 10: 6, two blocks of 30; of 12: 8, three of
// 32), so the tiles are still in L1 or L2 from their pointwise_tile calls.
int64_t column_tail_tiles(const PackedWeights& w) {
  const int64_t T = w.tile_rows(), block = column_tail_block_rows(T);
  int64_t tiles = 1;
  while (tiles < w.tiles_per_group() && (tiles * T % block != 0 || tiles * T < 64)) ++tiles;
  return tiles;
}

// Row tiles [tile_begin, tile_end) of W against the pixels [col0, col0 + cols)
// of X, over one depth chunk [k0, k0 + kc) of `range`, with W's rows in the
// lanes (see column_tail).
void pointwise_column_tail(const PointwiseJob& job, int64_t n, int64_t group, int64_t tile_begin, int64_t tile_end,
                           int64_t col0, int64_t cols, int64_t k0, int64_t kc, const DepthRange& range) {
  const ConvGeometry& g = *job.g;
  const PackedWeights& w = *job.w;
  const ConvRunArgs& args = *job.args;
  const int64_t P = g.out_pixels(), cg = g.in_group_channels(), mg = g.out_group_channels();
  const int64_t T = w.tile_rows(), row0 = tile_begin * T, rows = std::min(tile_end * T, mg) - row0;
  const int64_t ch0 = group * mg + row0, offset = (n * g.out_channels + ch0) * P + col0;
  const bool last = k0 + kc == range.end && range.completes;
  ColumnTailProduct product;
  product.a = w.row_tile(group, tile_begin) + k0 * T;
  product.tile_rows = T;
  product.tile_stride = w.k() * T;
  product.rows = rows;
  product.kc = kc;
  if (job.packed) {
    product.b = job.panels.panel(n, group, col0 / kPanel) + k0 * kPanel + col0 % kPanel;
    product.ldb = kPanel;
  } else {
    product.b = args.x + (n * g.in_channels + group * cg + k0) * P + col0;
    product.ldb = P;
  }
  product.cols = cols;
  product.y = range.y + offset;
  product.ldy = P;
  product.first = k0 == range.begin;
  product.last = last;
  multiply_column_tail(product, register_epilogue(job, ch0, offset));
  if (last && !job.in_registers) apply_epilogue(job, ch0, offset, rows, cols);
}

// Row tiles [tile_begin, tile_end) of W against the pixels [col_begin, col_end)
// over one depth chunk: pointwise_tile for all but the column tail, which
// follows each run of column_tail_tiles tiles.
void pointwise_tiles(const PointwiseJob& job, int64_t n, int64_t group, int64_t tile_begin, int64_t tile_end,
                     int64_t col_begin, int64_t col_end, int64_t k0, int64_t kc, const DepthRange& range) {
  const int64_t tail = column_tail(job, col_begin, col_end);
  const int64_t run = tail > 0 ? column_tail_tiles(*job.w) : tile_end - tile_begin;
  for (int64_t t0 = tile_begin; t0 < tile_end; t0 += run) {
    const int64_t t1 = std::min(tile_end, t0 + run);
    for (int64_t t = t0; t < t1; ++t) pointwise_tile(job, n, group, t, col_begin, col_end - tail, k0, kc, range);
    if (tail > 0) pointwise_column_tail(job, n, group, t0, t1, col_end - tail, tail, k0, kc, range);
  }
}

// A unit: one image and group, a block of pixel panels, a chunk of W's row
// tiles. Each row tile runs along the whole block before the next one starts,
// so it writes its output rows in long runs (not 32 pixels of every channel
// row in turn), while the block of X it reads stays in L1/L2 for the next tile.
void pointwise_unit(const void* context, int64_t unit) {
  const PointwiseJob& job = *static_cast<const PointwiseJob*>(context);
  const ConvGeometry& g = *job.g;
  const auto [n, group, block, chunk] = conv_unit(unit, job.tile_chunks, job.blocks, g.group);
  const int64_t panels = (g.out_pixels() + kPanel - 1) / kPanel;
  const int64_t panel_begin = block * job.block_panels, panel_end = std::min(panels, panel_begin + job.block_panels);
  const int64_t tile_begin = chunk * job.tiles_per_chunk;
  const int64_t tile_end = std::min(job.w->tiles_per_group(), tile_begin + job.tiles_per_chunk);
  const int64_t cg = g.in_group_channels(), kc_max = job.chunk_depth;
  const DepthRange all{0, cg, job.args->y, true};
  const int64_t col_begin = panel_begin * kPanel, col_end = std::min(g.out_pixels(), panel_end * kPanel);
  for (int64_t k0 = 0; k0 < cg; k0 += kc_max) {
    pointwise_tiles(job, n, group, tile_begin, tile_end, col_begin, col_end, k0, std::min(kc_max, cg - k0), all);
  }
}

// A depth-split unit: one part of the input channels, one image, one block of
// pixel panels, every row tile of W. Parts are the slowest index, so on 2
// threads each takes its own part (the dispatch deals from both ends).
void pointwise_part_unit(const void* context, int64_t unit) {
  const PointwiseJob& job = *static_cast<const PointwiseJob*>(context);
  const ConvGeometry& g = *job.g;
  const int64_t block = unit % job.blocks, n = unit / job.blocks % g.batch, part = unit / job.blocks / g.batch;
  const int64_t panels = (g.out_pixels() + kPanel - 1) / kPanel;
  const int64_t panel_begin = block * job.block_panels, panel_end = std::min(panels, panel_begin + job.block_panels);
  const int64_t cg = g.in_group_channels(), begin = part * job.chunk_depth;
  const int64_t end = std::min(cg, begin + job.chunk_depth);
  float* y = part == 0 ? job.args->y : job.partials + (part - 1) * g.batch * g.out_channels * g.out_pixels();
  const DepthRange range{begin, end, y, false};
  const int64_t col_begin = panel_begin * kPanel, col_end = std::min(g.out_pixels(), panel_end * kPanel);
  pointwise_tiles(job, n, 0, 0, job.w->tiles_per_group(), col_begin, col_end, begin, end - begin, range);
}

// Rows of Y per reduction unit of a depth split.
constexpr int64_t kReduceRows = 8;

// A reduction unit: kReduceRows channel rows of one image, Y += the other
// parts' sums, then the epilogue (bias, skip, activation), row by row while
// the row is in L1.
void pointwise_reduce_unit(const void* context, int64_t unit) {
  const PointwiseJob& job = *static_cast<const PointwiseJob*>(context);
  const ConvGeometry& g = *job.g;
  const ConvRunArgs& args = *job.args;
  const int64_t row_units = (g.out_channels + kReduceRows - 1) / kReduceRows;
  const int64_t n = unit / row_units, row0 = unit % row_units * kReduceRows;
  const int64_t rows = std::min(kReduceRows, g.out_channels - row0), P = g.out_pixels();
  const int64_t part_floats = g.batch * g.out_channels * P;
  for (int64_t r = row0; r < row0 + rows; ++r) {
    const int64_t offset = (n * g.out_channels + r) * P;
    float* y = args.y + offset;
    for (int64_t p = 1; p < job.parts; ++p) {
      const float* partial = job.partials + (p - 1) * part_floats + offset;
      for (int64_t i = 0; i < P; ++i) y[i] += partial[i];
    }
    args.epilogue->apply(y, P, 1, P, args.bias ? args.bias + r : nullptr, args.z ? args.z + offset : nullptr, P);
  }
}

// ---------------------------------------------------------------------------
// Gathered: output pixels as rows, read through per-pixel pointers.

// X with its zero border, when the convolution pads: [N * C] planes of
// (D + pads) x (H + pads) x (W + pads).
struct PaddedInput {
  const float* data;
  ConvGeometry::Dims dims;  // the padded spatial sizes
  int64_t plane() const { return dims[0] * dims[1] * dims[2]; }
};

bool pads(const ConvGeometry& g) {
  for (int i = 0; i < kMaxConvSpatial; ++i) {
    if (g.pad_begin[i] != 0 || g.pad_end[i] != 0) return true;
  }
  return false;
}

ConvGeometry::Dims padded_dims(const ConvGeometry& g) {
  ConvGeometry::Dims d;
  for (int i = 0; i < kMaxConvSpatial; ++i) d[i] = g.in[i] + g.pad_begin[i] + g.pad_end[i];
  return d;
}

// Rows [r0, r1) of one padded plane (a row: one (depth, height) position of
// the padded sizes), zero where they lie in the padding.
ONNX_MINI_PADDED_ROW_TARGET void pad_rows(const ConvGeometry& g, const ConvGeometry::Dims& pd, const float* src,
                                          float* dst, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    float* row = dst + r * pd[2];
    const int64_t d = r / pd[1] - g.pad_begin[0], h = r % pd[1] - g.pad_begin[1];
    if (d < 0 || d >= g.in[0] || h < 0 || h >= g.in[1]) {
      zero_row(row, pd[2]);
      continue;
    }
    zero_padded_row(row, g.pad_begin[2], src + (d * g.in[1] + h) * g.in[2], g.in[2], g.pad_end[2]);
  }
}

// Whether each thread pads the rows its gathered units read into its own copy
// of the image (own_padded_rows) rather than all threads reading one copy
// made before the units: where the threads split an image's units among them.
bool pads_own_rows(const ConvGeometry& g, ThreadPool* pool) {
  const int64_t threads = threads_of(pool);
  return pads(g) && threads > 1 && g.batch < threads;
}

// X with its zero border for every image, made before the units run (1
// thread, or at least one image per thread): split by image over the threads,
// as the units are (image-major, dealt from both ends), so each thread mostly
// pads the images its own units read.
PaddedInput padded_input(const ConvGeometry& g, const float* x, ThreadPool* pool) {
  if (!pads(g)) return {x, g.in};
  const ConvGeometry::Dims pd = padded_dims(g);
  const int64_t plane = pd[0] * pd[1] * pd[2], rows = pd[0] * pd[1], channels = g.in_channels;
  const int64_t floats = plane * g.batch * channels;
  thread_local std::vector<float> buffer;
  if (buffer.size() < static_cast<size_t>(floats)) buffer.resize(static_cast<size_t>(floats));
  float* out = buffer.data();
  const int64_t in_plane = g.in_pixels();
  for_each_task(floats >= kPadSplitFloats ? pool : nullptr, g.batch, [&](int64_t n) {
    for (int64_t p = n * channels; p < (n + 1) * channels; ++p) {
      pad_rows(g, pd, x + p * in_plane, out + p * plane, 0, rows);
    }
  });
  return {out, pd};
}

// offsets[c * kernel_pixels + kp]: where input channel c at kernel position kp
// lies from a pixel's pointer (the weight's [Cg, kernel...] order).
const int32_t* kernel_offsets(const ConvGeometry& g, const PaddedInput& in) {
  thread_local std::vector<int32_t> offsets;
  const int64_t kp_count = g.kernel_pixels(), k = g.in_group_channels() * kp_count;
  if (offsets.size() < static_cast<size_t>(k)) offsets.resize(static_cast<size_t>(k));
  int32_t* o = offsets.data();
  // Channel 0's offsets, then every channel's as a plane further. A loop nest
  // over the kernel's three axes per channel took ~60 us of a MobileNetV2 run
  // on 2 threads (perf: 247 samples at 4 kHz per 1000 runs, now 20), on the
  // calling thread while the other waited: its 1x1 layers at 7x7, up to 960
  // channels, take the gathered form.
  for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
    for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
      for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
        *o++ = static_cast<int32_t>((kd * g.dilation[0] * in.dims[1] + kh * g.dilation[1]) * in.dims[2] +
                                    kw * g.dilation[2]);
      }
    }
  }
  const auto plane = static_cast<int32_t>(in.plane());
  for (int64_t c = 1; c < g.in_group_channels(); ++c) {
    const int32_t* first = offsets.data();
    const int32_t shift = static_cast<int32_t>(c) * plane;
    for (int64_t kp = 0; kp < kp_count; ++kp) *o++ = first[kp] + shift;
  }
  return offsets.data();
}

// The depth steps (in W's order: channel, kernel row, kernel column) of the
// kernel rows [lo, hi): one run of (hi - lo) x KW steps per channel. A tile
// whose pixels' windows have their other kernel rows in the zero padding takes
// only these; leaving out products of zero with finite weights changes no sum.
struct TapSubset {
  int64_t lo = 0, hi = 0;
  int64_t kernel_rows = 0, kernel_cols = 0;  // the kernel's KH and KW

  // Steps per channel (kernel_rows x kernel_cols) and of those taken, in one run ((hi - lo) x kernel_cols).
  int64_t per_channel() const { return kernel_rows * kernel_cols; }
  int64_t taken() const { return (hi - lo) * kernel_cols; }
  // How many of the steps taken lie before step k of the whole reduction.
  int64_t position(int64_t k) const {
    return k / per_channel() * taken() + std::clamp(k % per_channel() - lo * kernel_cols, int64_t{0}, taken());
  }
  // The step of the whole reduction the subset's position-th step is.
  int64_t step(int64_t position) const {
    return position / taken() * per_channel() + lo * kernel_cols + position % taken();
  }
};
// Kinds of output rows that skip taps, at most: 3x3 with padding 1 has two
// (the first row and the last), a 7x7 with padding 3 six.
constexpr int kMaxTapSubsets = 8;

struct GatheredJob {
  const ConvGeometry* g;
  const PackedWeights* w;
  const ConvRunArgs* args;
  PaddedInput in;
  const int32_t* offsets;
  int64_t blocks, panels;
  RegisterEpilogue form;
  bool in_registers;
  // Weight panels per unit, and units per block: a unit works out its
  // block's pixel pointers and tile plan once for all its panels.
  int64_t panels_per_unit = 1, panel_units = 1;
  // Output rows whose windows reach into the zero padding above or below the
  // image (2-D): the depth steps their taps in the image take, per class of
  // rows that share them (row_class[oh], -1 for rows that take every step).
  const int16_t* row_class = nullptr;
  std::array<TapSubset, kMaxTapSubsets> subsets{};
  // Whether each thread pads the rows its units read (own_padded_rows; in.data
  // is null then), and which dispatch this is, so that a thread tells this
  // dispatch's rows from those an earlier one left in its copy.
  bool own_rows = false;
  uint64_t dispatch = 0;
};

// A thread's zero-bordered copy of one image of X (ScratchSlot::kPaddedImage)
// for a gathered dispatch: which rows of it are filled, per group and padded row.
struct OwnPaddedRows {
  uint64_t dispatch = 0;
  int64_t image = -1;
  std::vector<uint8_t> ready;
};

// The padded rows [r0, r1) of image n that the output pixels [p_begin, p_end)
// read: exact for a block within one depth slice of a kernel one deep (1-D and
// 2-D), whole depth slices otherwise.
std::pair<int64_t, int64_t> padded_rows_read(const ConvGeometry& g, const ConvGeometry::Dims& pd, int64_t p_begin,
                                             int64_t p_end) {
  const int64_t hw = g.out[1] * g.out[2];
  const int64_t od0 = p_begin / hw, od1 = (p_end - 1) / hw;
  if (od0 == od1 && g.kernel[0] == 1) {
    const int64_t oh0 = p_begin / g.out[2] % g.out[1], oh1 = (p_end - 1) / g.out[2] % g.out[1];
    const int64_t slice = od0 * g.stride[0] * pd[1];
    return {slice + oh0 * g.stride[1], slice + oh1 * g.stride[1] + (g.kernel[1] - 1) * g.dilation[1] + 1};
  }
  return {od0 * g.stride[0] * pd[1], (od1 * g.stride[0] + (g.kernel[0] - 1) * g.dilation[0] + 1) * pd[1]};
}

// The calling thread's padded copy of image n from group `group`'s first
// channel on, every row that the output pixels [p_begin, p_end) read filled
// (the rows no earlier unit of this dispatch on this thread filled).
//
// Where the threads split one image's units, each pads the rows its own units
// read, in the units, rather than all of them reading one copy padded in a
// dispatch of its own before: the rows a thread reads are then the ones it
// wrote, while in one shared copy the threads' units and the copy's bands (or
// planes) never matched exactly (the units are claimed at run time) and each
// 3x3 layer read part of its input from the other core's cache, a line at a
// time. SqueezeNet at batch 1 on 2 threads (--profile, three alternated rounds
// of 500 runs, per node): its eight 3x3 expands 13-21 us faster each, 118 us
// of a 3.1 ms node sum; whole model 0.951 (ten alternated rounds; about 0.99
// in a phase of the machine where both ran at 2.1 ms rather than 2.7);
// ResNet-18 and MobileNetV2 0.987 and 0.990 (six). A thread then pads the rows
// at the boundary between the threads' units twice, and on a small image whose
// units split W's panels the whole image. On 1 thread, where one copy is made
// in one pass, SqueezeNet took 1.007 of its time this way (six rounds; `perf`,
// 1.2 % more samples over 1000 runs), so one copy stays there, as with an
// image per thread, where each thread already pads only its own images.
const float* own_padded_rows(const GatheredJob& job, int64_t n, int64_t group, int64_t p_begin, int64_t p_end) {
  const ConvGeometry& g = *job.g;
  const ConvGeometry::Dims& pd = job.in.dims;
  const int64_t plane = job.in.plane(), rows = pd[0] * pd[1], cg = g.in_group_channels();
  // The same size for every unit of a dispatch, so the storage moves (and its
  // rows are lost) only at a thread's first unit of one, which resets `ready`.
  float* data = thread_scratch(ScratchSlot::kPaddedImage, g.in_channels * plane);
  thread_local OwnPaddedRows mine;
  if (mine.dispatch != job.dispatch || mine.image != n) {
    mine.dispatch = job.dispatch, mine.image = n;
    mine.ready.assign(static_cast<size_t>(g.group * rows), 0);
  }
  const auto [r0, r1] = padded_rows_read(g, pd, p_begin, p_end);
  uint8_t* ready = mine.ready.data() + group * rows;
  float* out = data + group * cg * plane;
  const float* x = job.args->x + (n * g.in_channels + group * cg) * g.in_pixels();
  for (int64_t r = r0; r < r1;) {
    if (ready[r]) {
      ++r;
      continue;
    }
    int64_t e = r;
    while (e < r1 && !ready[e]) ready[e++] = 1;
    for (int64_t c = 0; c < cg; ++c) pad_rows(g, pd, x + c * g.in_pixels(), out + c * plane, r, e);
    r = e;
  }
  return out;
}

// The kernel rows [lo, hi) whose taps read the image (not its zero padding)
// for output row `oh` of a 2-D convolution; all of them where none does (a
// window wholly in the padding: its sums are zeros either way).
std::pair<int64_t, int64_t> kernel_rows_in_image(const ConvGeometry& g, int64_t oh) {
  const int64_t top = oh * g.stride[1], d = g.dilation[1], kh = g.kernel[1];
  const int64_t above = g.pad_begin[1] - top, below = g.pad_begin[1] + g.in[1] - top;
  const int64_t lo = above > 0 ? (above + d - 1) / d : 0;
  const int64_t hi = below > 0 ? std::min(kh, (below + d - 1) / d) : 0;
  if (lo >= hi) return {0, kh};
  return {lo, hi};
}

// The classes of output rows that leave taps out (at most kMaxTapSubsets:
// rows past them take every step), in per-thread scratch; returns
// row_class, or null when every row takes every step.
const int16_t* tap_subsets(const ConvGeometry& g, std::array<TapSubset, kMaxTapSubsets>& subsets) {
  const int64_t kh = g.kernel[1], ho = g.out[1];
  if (g.spatial != 2 || kh < 2 || (g.pad_begin[1] <= 0 && g.pad_end[1] <= 0)) return nullptr;
  thread_local std::vector<int16_t> row_class;
  row_class.assign(static_cast<size_t>(ho), -1);
  int count = 0;
  for (int64_t oh = 0; oh < ho; ++oh) {
    const auto [lo, hi] = kernel_rows_in_image(g, oh);
    if (lo == 0 && hi == kh) continue;
    int found = 0;
    while (found < count && (subsets[found].lo != lo || subsets[found].hi != hi)) ++found;
    if (found == count) {
      if (count == kMaxTapSubsets) continue;
      subsets[count++] = TapSubset{lo, hi, kh, g.kernel[2]};
    }
    row_class[oh] = static_cast<int16_t>(found);
  }
  return count == 0 ? nullptr : row_class.data();
}

#if ONNX_MINI_HAVE_CONV_KERNELS

// A block's sums [pixels][32 channels] (row stride kPanel) into NCHW Y: channel
// j's `pixels` values at y + j * P, with bias[j], z + j * P and the
// activation's bounds (max(lo, x), then min(hi, x)); `cols` channels are
// real. 16 pixels at a time, so every transpose is a whole 16 x 16 one and
// every store 16 lanes wide but the block's last. The channel loop is
// unrolled whole: indexed by a count known only at run time, the transposed
// vectors went to the stack and back, and each channel compared the count
// (perf of SqueezeNet's 55x55 3x3: 6 % of the layer, 2500 instructions).
template <bool kBias, bool kZ>
__attribute__((target("avx512f"))) void store_transposed_as(const float* block, int64_t pixels, int64_t cols,
                                                            float* y, int64_t P, const float* bias, const float* z,
                                                            __m512 lo, __m512 hi) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t q = 0; q < pixels; q += 16) {
    const int64_t rows = std::min<int64_t>(16, pixels - q);
    const __mmask16 mask = static_cast<__mmask16>((uint32_t{1} << rows) - 1);
    for (int64_t half = 0; half * 16 < cols; ++half) {
      __m512 r[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_loadu_ps(block + (q + i) * kPanel + half * 16) : zero;
      transpose16(r);
      const int64_t channels = std::min<int64_t>(16, cols - half * 16);
      float* const yq = y + half * 16 * P + q;
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        if (j == channels) break;
        __m512 out = r[j];
        if constexpr (kBias) out = _mm512_add_ps(out, _mm512_set1_ps(bias[half * 16 + j]));
        if constexpr (kZ) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, z + half * 16 * P + q + j * P));
        out = _mm512_min_ps(hi, _mm512_max_ps(lo, out));
        _mm512_mask_storeu_ps(yq + j * P, mask, out);
      }
    }
  }
}

// The register activation as bounds: ReLU max(0, x), Clip max(lo, x) then
// min(hi, x), none max(-inf, x) then min(inf, x), which change nothing (vmaxps
// and vminps return their second operand, x, when either is NaN, and -0 when
// both are zeros: NaN and -0 are kept as the activations keep them).
__attribute__((target("avx512f"))) void store_transposed(const float* block, int64_t pixels, int64_t cols, float* y,
                                                         int64_t P, const float* bias, const float* z,
                                                         const RegisterEpilogue& e) {
  const float inf = std::numeric_limits<float>::infinity();
  const __m512 lo = _mm512_set1_ps(e.clip ? e.clip_lo : e.relu ? 0.0f : -inf);
  const __m512 hi = _mm512_set1_ps(e.clip ? e.clip_hi : inf);
  if (bias && z) return store_transposed_as<true, true>(block, pixels, cols, y, P, bias, z, lo, hi);
  if (bias) return store_transposed_as<true, false>(block, pixels, cols, y, P, bias, z, lo, hi);
  if (z) return store_transposed_as<false, true>(block, pixels, cols, y, P, bias, z, lo, hi);
  store_transposed_as<false, false>(block, pixels, cols, y, P, bias, z, lo, hi);
}

#else

void store_transposed(const float*, int64_t, int64_t, float*, int64_t, const float*, const float*,
                      const RegisterEpilogue&) {}  // the packed kernel needs AVX-512F: never reached

#endif

// The pointers of a tile's pixels: each output pixel's window origin in the
// (padded) input plane of the group's first channel. The pixel's coordinates
// are divided out once and then stepped: three 64-bit divisions per pixel were
// a tenth of a 16 -> 64 channel 3x3 convolution's time at 55x55.
void pixel_pointers(const ConvGeometry& g, const PaddedInput& in, const float* base, int64_t p0, int64_t rows,
                    const float** out) {
  const int64_t oh_ow = g.out[1] * g.out[2];
  int64_t od = p0 / oh_ow, oh = (p0 / g.out[2]) % g.out[1], ow = p0 % g.out[2];
  const int64_t step_w = g.stride[2], step_h = g.stride[1] * in.dims[2], step_d = g.stride[0] * in.dims[1] * in.dims[2];
  const float* row = base + od * step_d + oh * step_h;
  for (int64_t r = 0; r < rows; ++r) {
    out[r] = row + ow * step_w;
    if (++ow < g.out[2]) continue;
    ow = 0;
    row += step_h;
    if (++oh < g.out[1]) continue;
    oh = 0;
    ++od;
    row = base + od * step_d;
  }
}

// The tiles of a block of pixels [p_begin, p_end): their rows, their first
// row in the block, and the tap subset each takes (-1: every step).
struct BlockTiles {
  int64_t count = 0;
  int64_t rows[kBlockPixels], first_row[kBlockPixels];
  int subset[kBlockPixels];
};

BlockTiles block_tiles(const GatheredJob& job, int64_t p_begin, int64_t p_end) {
  // A tile of output rows whose windows reach into the padding above or
  // below the image (row_class) takes its subset of the steps, leaving out
  // the kernel rows that read only zeros, as ORT's NCHWc kernels do: a 3x3
  // with padding 1 at 13x13 has 5 % of its multiply-adds there, 2.5 % at
  // 27x27, 1.2 % at 55x55. SqueezeNet's 64 ->
  // 256 3x3 at 13x13 cut out took 0.959-0.968 of its time (1 thread, pinned,
  // 1000 runs, medians of alternated rounds), the 27x27 and 55x55 ones 0.983
  // and 0.994, the whole model 0.990 on 1 thread and 0.987 on 2 (eight
  // rounds), ResNet-18 0.997 and 1.000.
  BlockTiles tiles;
  // The block in runs of pixels that take the same steps: [bounds[i], bounds[i + 1]) of run_subset[i].
  // (Only the entries a block uses are set: zeroing the arrays whole was
  // three `rep stos` a unit, as much as its pixel pointers.)
  int64_t bounds[kBlockPixels + 1];
  int run_subset[kBlockPixels];
  bounds[0] = p_begin, bounds[1] = p_end, run_subset[0] = -1;
  int runs = 1;
  if (job.row_class) {
    const int64_t wo = job.g->out[2];  // a 2-D image: pixel p is in output row p / Wo
    runs = 0;
    for (int64_t p = p_begin; p < p_end; p = bounds[++runs]) {
      int64_t oh = p / wo;
      run_subset[runs] = job.row_class[oh];
      while ((oh + 1) * wo < p_end && job.row_class[oh + 1] == run_subset[runs]) ++oh;
      bounds[runs + 1] = std::min(p_end, (oh + 1) * wo);
    }
    // A run that skips steps keeps whole tiles; the pixels past them (a
    // 13-pixel first row: 12 + 1) join the neighbouring run of every step
    // rather than make thin tiles (7 + 6: SqueezeNet's 64 -> 256 3x3 at 13x13
    // cut out took 1.017 of the time it takes this way, eight rounds).
    for (int i = 0; i < runs; ++i) {
      const int64_t rest = (bounds[i + 1] - bounds[i]) % kTileRows;
      if (run_subset[i] < 0 || rest == 0) continue;
      if (i > 0 && run_subset[i - 1] < 0) {
        bounds[i] += rest;
      } else if (i + 1 < runs && run_subset[i + 1] < 0) {
        bounds[i + 1] -= rest;
      }
    }
    // A block of a few pixels in several skipping runs (a 2x2 image's two
    // rows) is one tile of every step: with little to multiply per step a
    // tile's time goes by steps, not rows, and two 2-row tiles of two thirds
    // of the steps took longer than one 4-row tile of all of them (ResNet-18
    // at 32x32, layer3, 48 -> 87 us).
    if (runs > 1 && p_end - p_begin <= kTileRows) {
      runs = 1;
      run_subset[0] = -1;
      bounds[1] = p_end;
    }
  }
  // The tiles of every step first: the first of them streams each depth
  // chunk of W in (prefetch_b), and the others, the skipping ones too, find
  // it in L1.
  for (const bool skipping : {false, true}) {
    for (int i = 0; i < runs; ++i) {
      if ((run_subset[i] >= 0) != skipping) continue;
      for (int64_t p = bounds[i]; p < bounds[i + 1]; p += tiles.rows[tiles.count++]) {
        tiles.subset[tiles.count] = run_subset[i];
        tiles.first_row[tiles.count] = p - p_begin;
        tiles.rows[tiles.count] = next_tile_rows(bounds[i + 1] - p);
      }
    }
  }
  return tiles;
}

void gathered_unit(const void* context, int64_t unit) {
  const GatheredJob& job = *static_cast<const GatheredJob*>(context);
  const ConvGeometry& g = *job.g;
  const PackedWeights& w = *job.w;
  const ConvRunArgs& args = *job.args;
  const auto [n, group, block, panel_unit] = conv_unit(unit, job.panel_units, job.blocks, g.group);
  const int64_t P = g.out_pixels(), cg = g.in_group_channels(), mg = g.out_group_channels();
  const int64_t k = cg * g.kernel_pixels();
  const int64_t p_begin = block * kBlockPixels, p_end = std::min(P, p_begin + kBlockPixels);
  const float* base = job.own_rows ? own_padded_rows(job, n, group, p_begin, p_end)
                                   : job.in.data + (n * g.in_channels + group * cg) * job.in.plane();
  // The block's sums for one panel, pixel by pixel (pixel p_begin + i in row i).
  alignas(64) float sums[kBlockPixels][kPanel];
  // The block's pixel pointers, worked out in one pass (its divisions once a
  // unit, not once a tile), and its tiles, for every panel of the unit.
  const float* pixel_rows[kBlockPixels];
  pixel_pointers(g, job.in, base, p_begin, p_end - p_begin, pixel_rows);
  const BlockTiles tiles = block_tiles(job, p_begin, p_end);
  const int64_t kc_max = depth_chunk(k, kGatheredDepth);
  const int64_t panel_end = std::min(job.panels, (panel_unit + 1) * job.panels_per_unit);
  for (int64_t panel = panel_unit * job.panels_per_unit; panel < panel_end; ++panel) {
    const int64_t col0 = panel * kPanel, cols = std::min(kPanel, mg - col0);
    const float* b = w.group_panel(group, panel);
    int64_t tile_steps[kBlockPixels];  // steps a skipping tile has taken so far
    std::fill_n(tile_steps, tiles.count, 0);
    for (int64_t k0 = 0; k0 < k; k0 += kc_max) {
      const int64_t k1 = std::min(k, k0 + kc_max);
      GatheredTileProduct product;
      product.ldy = kPanel;
      // Where this unit is the only reader of its weight panel in the image
      // (one pixel block: the weight streams from L3 or memory once per image),
      // the next depth chunk of the panel, whose first tile would otherwise wait
      // for it, is fetched into L2 while the later tiles run on this one (its
      // lines shared out among them). ResNet-18's 512-channel 7x7 stage, 9.4 MB
      // of weights for its 3x3s: 1231-1240 us against 1324-1336 each on 1
      // thread, 716-720 against 752-766 on 2; the whole model 0.986 and 0.991
      // (node sums, four alternated rounds). Where several blocks read the panel
      // (the next chunk is in L2 already) the extra prefetches only took load
      // slots: ResNet-18's stride-2 3x3s at 28x28 and 14x14 got 15-17 us slower.
      const int64_t next_k0 = k0 + kc_max;
      const int64_t next_lines = job.blocks == 1 && next_k0 < k ? std::min(kc_max, k - next_k0) * kPanel / 16 : 0;
      bool chunk_read = false;
      for (int64_t t = 0; t < tiles.count; ++t) {
        product.run_steps = 0;
        if (tiles.subset[t] < 0) {
          product.a_offsets = job.offsets + k0;
          product.b = b + k0 * kPanel;
          product.kc = k1 - k0;
          product.first = k0 == 0;
          product.prefetch_b = !chunk_read;  // the weight chunk's first reader: later tiles find it in L1
          chunk_read = true;
        } else {
          // This chunk's steps of the tile's subset: the same chunks as the
          // full sum (each chunk's sum starts from zero and is added to the
          // last), so the values are bit for bit those of every step.
          const TapSubset& subset = job.subsets[tiles.subset[t]];
          const int64_t from = tile_steps[t], to = subset.position(k1);
          tile_steps[t] = to;
          if (to == from) continue;
          const int64_t step = subset.step(from);
          product.a_offsets = job.offsets + step;
          product.b = b + step * kPanel;
          product.run_steps = subset.taken();
          product.run_gap = subset.per_channel() - subset.taken();
          product.run_left = subset.taken() - from % subset.taken();
          product.a_rows_consecutive = g.stride[2] == 1 && (tiles.first_row[t] + p_begin) % g.out[2] + tiles.rows[t] <= g.out[2];
          product.kc = to - from;
          product.first = from == 0;
          product.prefetch_b = !chunk_read;  // a block of skipping tiles only (a 1x1 image)
          chunk_read = true;
        }
        if (t > 0 && next_lines > 0) {
          const int64_t first = next_lines * (t - 1) / (tiles.count - 1), last = next_lines * t / (tiles.count - 1);
          product.prefetch_next = b + next_k0 * kPanel + first * 16;
          product.prefetch_lines = last - first;
        } else {
          product.prefetch_lines = 0;
        }
        product.a_rows = pixel_rows + tiles.first_row[t];
        product.rows = tiles.rows[t];
        product.y = &sums[tiles.first_row[t]][0];
        multiply_gathered_tile(product);
      }
    }
    const int64_t ch0 = group * mg + col0, offset = (n * g.out_channels + ch0) * P + p_begin;
    const RegisterEpilogue none;
    store_transposed(&sums[0][0], p_end - p_begin, cols, args.y + offset, P, args.bias ? args.bias + ch0 : nullptr,
                     args.z ? args.z + offset : nullptr, job.in_registers ? job.form : none);
    if (!job.in_registers) args.epilogue->apply(args.y + offset, P, cols, p_end - p_begin, nullptr, nullptr, 0);
  }
}

// Whether the output image of a 1x1 convolution without padding on X (its
// strides: `strides`, empty for ones) is known to be small enough that the
// pointwise form would compute many pixels for nothing: it computes whole
// 16-lane vectors of pixels (32 per panel, 16 or 32 in the last one), so a 7x7
// image (49 pixels) takes 64 lanes, 23 % of them wasted; the gathered form puts
// pixels in the rows of its tiles and wastes none. bench_conv, 1x1 at 7x7
// (320 -> 1280, 960 -> 320, 960 -> 160, batch 1 and 8): the pointwise form on
// packed pixels took 1.07 to 1.36 times the gathered form's time.
bool pointwise_wastes_lanes(const TensorInfo* x, const std::vector<int64_t>& strides) {
  if (!x || !x->has_shape || x->dims.size() < 3) return false;
  int64_t pixels = 1;
  for (size_t i = 2; i < x->dims.size(); ++i) {
    if (!x->dims[i].known()) return false;
    const int64_t stride = strides.size() == x->dims.size() - 2 ? strides[i - 2] : 1;
    pixels *= x->dims[i].value == 0 ? 0 : (x->dims[i].value - 1) / stride + 1;
  }
  if (pixels == 0) return false;
  const int64_t full = pixels / kPanel, rest = pixels % kPanel;
  const int64_t lanes = full * kPanel + (rest == 0 ? 0 : rest <= 16 ? 16 : kPanel);
  return lanes * 100 > pixels * 115;
}

// Output channels per group from which the pointwise form at stride 1 copies
// X's pixels into panels rather than reading them in place: each copied value
// then feeds at least this many multiply-adds. In place, the micro-kernel asks
// for each B row's next values ahead (ops/packed_gemm.cc), which it did not
// when 128 was chosen; the copy is a pass over X before the product (why it
// costs more on 2 threads than on 1 was not established). Whole models, batch 1,
// five to eight alternated rounds, 512 against the earlier 128: on 2 threads
// SqueezeNet 0.98 (its 1x1 expands to 128, 192 and 256 channels 2-12 us
// faster each), MobileNetV2 0.98 (24 -> 144 at 56x56 99 us against 122); on 1
// thread 0.999 for both, and MobileNetV2's 24 -> 144 alone 145 us against 176.
// SqueezeNet's 512 -> 1000 classifier keeps the copy: in place it took 561 us
// against 509 on 2 threads.
constexpr int64_t kPackMinChannels = 512;

// A depth split (below) has 2 parts, whatever the thread count, each part's
// input channels a multiple of 16 (the blocks in which the depthwise
// convolution that usually makes X splits its channels) and at most one
// pointwise depth chunk. On 1 thread the two parts are the two depth chunks of
// the usual path: the kernel sums a chunk from zero and adds it to the partial
// sums in Y, as the reduction adds the parts, so 1 and 2 threads give the same
// bits.
constexpr int64_t kDepthParts = 2;
constexpr int64_t kPartAlign = 16;
// Depth from which a 1x1 convolution splits it: this many times its outputs.
constexpr int64_t kSplitDepthRatio = 4;

int64_t depth_part_channels(int64_t depth) {
  return ((depth + kDepthParts - 1) / kDepthParts + kPartAlign - 1) / kPartAlign * kPartAlign;
}

// Whether a 1x1 convolution read in place, whose image is too small to give 2
// threads their own pixel blocks (`units` of them), splits the input channels
// (the depth) into parts, each part summing its share of W * X for every
// pixel, the parts then added. Otherwise the threads split W's row tiles and
// the pixel blocks, so each reads all of W and, for its pixels, every channel
// of X; when X was made by a depthwise convolution, whose threads split the
// channels, half of those come from the other core's cache. A depth split
// reads each half of W once and X where it was written, for one extra pass
// over Y: worth it where the depth is several times the output channels
// (MobileNetV2's 14x14 projections, 384 or 576 -> 64 or 96; its depthwise
// convolution followed by its projection on 2 threads took 24 + 80 us against
// 43 + 110). On 1 thread a depth of 384 then runs as two chunks of 192, not
// one: 384 -> 64 at 14x14 took 62 us against 58.
bool splits_depth(const ConvGeometry& g, bool packed, int64_t units) {
  return !packed && g.group == 1 && units < kUnitsPerThread * kDepthParts &&
         g.in_channels >= kSplitDepthRatio * g.out_channels && g.in_channels >= kDepthParts * 2 * kPartAlign &&
         depth_part_channels(g.in_channels) <= kPointwiseDepth;
}

}  // namespace

bool PackedConv::applies(const Tensor& w) {
  return w.dtype() == DataType::kFloat && w.rank() >= 3 && w.num_elements() > 0 && PackedWeights::enabled();
}

Status PackedConv::init(const NodeInfo& node, const Tensor& w, const ConvAttributes& attrs) {
  bool unit_kernel = true, no_pads = true;
  for (int64_t d = 2; d < w.rank(); ++d) unit_kernel = unit_kernel && w.dim(d) == 1;
  for (int64_t p : attrs.pads) no_pads = no_pads && p == 0;
  // SAME padding of a 1x1 kernel is none at any stride (ceil(in / s) outputs
  // reach at most (ceil(in / s) - 1) * s + 1 <= in inputs); VALID none by definition.
  const bool pointwise = unit_kernel && (no_pads || attrs.auto_pad != AutoPad::kNotSet) &&
                         !pointwise_wastes_lanes(node.input(0), attrs.strides);
  const TensorInfo* w_info = node.input(1);
  form_ = pointwise                                                      ? Form::kPointwise
          : w_info && patch_panel_suits(attrs, *w_info, node.input(0)) ? Form::kPatchPanel
                                                                         : Form::kGathered;
  const bool rows = form_ != Form::kGathered;  // W as the left operand, in row tiles
  // The gathered form leaves out taps that read only padding where every
  // weight is finite: 0 x Inf on the padding is NaN, which leaving out the
  // tap would hide (as graph/passes/crop_conv_kernel.cc keeps such taps).
  if (form_ == Form::kGathered) {
    const float* v = w.data<float>();
    skip_padding_taps_ = std::all_of(v, v + w.num_elements(), [](float x) { return std::isfinite(x); });
  }
  if (node.packed_weights) {
    weights_ = rows ? node.packed_weights->request_rows(w, attrs.group)
                    : node.packed_weights->request_grouped(w, attrs.group);
    return Status::ok();
  }
  const int64_t m = w.dim(0), k = w.num_elements() / m;
  weights_ = std::make_shared<PackedWeights>(rows ? PackedWeights::pack_rows(w.data<float>(), m, k, k, attrs.group)
                                                  : PackedWeights::pack_grouped(w.data<float>(), m, k, attrs.group));
  return Status::ok();
}

bool PackedConv::can_run(const ConvGeometry& g) const {
  if (form_ == Form::kPointwise) return true;
  if (form_ == Form::kPatchPanel) return patch_panel_can_run(g);
  const ConvGeometry::Dims pd = padded_dims(g);
  return g.in_group_channels() * pd[0] * pd[1] * pd[2] < INT32_MAX;
}

void PackedConv::run(const ConvGeometry& g, const ConvRunArgs& args) const {
  if (g.batch == 0 || g.out_pixels() == 0) return;
  switch (form_) {
    case Form::kPointwise: return run_pointwise(g, args);
    case Form::kGathered: return run_gathered(g, args);
    case Form::kPatchPanel:
      if (phase_planes_can_run(g, args)) return run_phase_planes(g, *weights_, args);
      return run_patch_panel(g, *weights_, args);
  }
}

void PackedConv::run_pointwise(const ConvGeometry& g, const ConvRunArgs& args) const {
  PointwiseJob job{&g, weights_.get(), &args, {}, false, kPanel, 0, 0, 1, 0, {}, false};
  job.in_registers = args.epilogue->register_form(&job.form);
  // With a stride the copy is what picks out the pixels the convolution reads.
  job.packed = !g.is_pointwise() || g.out_group_channels() >= kPackMinChannels;
  if (job.packed) job.panels = PixelPanels::pack(g, args.x, args.pool);
  const int64_t panels = (g.out_pixels() + kPanel - 1) / kPanel;
  const int64_t kc = depth_chunk(g.in_group_channels(), kPointwiseDepth);
  const bool large_weight = g.out_group_channels() * kc > kPointwiseLargeWeightFloats;
  const int64_t block_floats = large_weight ? kPointwiseLargeBlockFloats : kPointwiseBlockFloats;
  // Panels per block, for a depth chunk; and the calls' width: 48 pixels where
  // X is read in place, W's row tiles have at most 8 rows (24 accumulators, as
  // 12 x 2) and a block holds 3 panels or more, in blocks of whole 48-pixel
  // calls (3 panels make 2) but the image's last. SqueezeNet's 128 -> 16
  // squeeze at 55x55 took 87 and 93 us against 95 and 101 (whole model, 1
  // thread, six alternated rounds, twice). Blocks of 1 or 2 panels keep calls
  // of 32: its 256 -> 32 at 27x27 (2 panels) took 79 against 70 as 48 + 16 (a
  // 16-pixel call loads 8 weights for 8 multiply-adds).
  const auto set_blocks = [&](int64_t depth) {
    int64_t block_panels = std::clamp<int64_t>(block_floats / (depth * kPanel), 1, panels);
    const bool wide = !job.packed && weights_->tile_rows() <= kWideTileMaxRows && block_panels >= 3;
    if (wide && block_panels < panels) block_panels -= block_panels % 3;
    job.call_cols = wide ? kWideTileCols : kPanel;
    job.block_panels = block_panels;
    job.blocks = (panels + block_panels - 1) / block_panels;
  };
  set_blocks(kc);
  int64_t units = g.batch * g.group * job.blocks;
  const int64_t tiles = weights_->tiles_per_group(), want = kUnitsPerThread * threads_of(args.pool);
  const bool split = splits_depth(g, job.packed, units);
  job.chunk_depth = split ? depth_part_channels(g.in_channels) : kc;
  if (split) {  // blocks as large as the shallower depth chunk allows
    set_blocks(job.chunk_depth);
    units = g.batch * g.group * job.blocks;
  }
  if (split && threads_of(args.pool) > 1) {
    job.parts = (g.in_channels + job.chunk_depth - 1) / job.chunk_depth;
    job.partials = thread_scratch(ScratchSlot::kDepthPartials, (job.parts - 1) * g.batch * g.out_channels * g.out_pixels());
    for_each_task(args.pool, job.parts * g.batch * job.blocks, pointwise_part_unit, &job);
    for_each_task(args.pool, g.batch * ((g.out_channels + kReduceRows - 1) / kReduceRows), pointwise_reduce_unit, &job);
    return;
  }
  // Few blocks (a 7x7 image at batch 1): the row tiles of W are split too.
  if (units < want) job.tile_chunks = std::min(tiles, (want + units - 1) / units);
  job.tiles_per_chunk = (tiles + job.tile_chunks - 1) / job.tile_chunks;
  job.tile_chunks = (tiles + job.tiles_per_chunk - 1) / job.tiles_per_chunk;
  for_each_task(args.pool, units * job.tile_chunks, pointwise_unit, &job);
}

void PackedConv::run_gathered(const ConvGeometry& g, const ConvRunArgs& args) const {
  static std::atomic<uint64_t> dispatches{0};
  GatheredJob job{&g, weights_.get(), &args, {}, nullptr, 0, 0, {}, false};
  if (pads_own_rows(g, args.pool)) {
    job.in = {nullptr, padded_dims(g)};
    job.own_rows = true;
    job.dispatch = ++dispatches;
  } else {
    job.in = padded_input(g, args.x, args.pool);
  }
  job.offsets = kernel_offsets(g, job.in);
  if (skip_padding_taps_) job.row_class = tap_subsets(g, job.subsets);
  job.blocks = (g.out_pixels() + kBlockPixels - 1) / kBlockPixels;
  job.panels = weights_->panels_per_group();
  job.in_registers = args.epilogue->register_form(&job.form);
  // Every panel of a block in one unit on 1 thread; on more, as many panels
  // per unit as leave kMinGatheredUnitsPerThread units a thread.
  const int64_t threads = threads_of(args.pool), blocks = g.batch * g.group * job.blocks;
  job.panels_per_unit = threads == 1 ? job.panels
                                     : std::clamp<int64_t>(blocks * job.panels / (kMinGatheredUnitsPerThread * threads),
                                                           1, job.panels);
  job.panel_units = (job.panels + job.panels_per_unit - 1) / job.panels_per_unit;
  for_each_task(args.pool, blocks * job.panel_units, gathered_unit, &job);
}

}  // namespace onnx_mini
