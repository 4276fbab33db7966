#include "ops/conv_patch_panel.h"

#include <algorithm>

#include "ops/lane_mask.h"
#include "ops/parallel.h"
#include "ops/scratch.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define ONNX_MINI_HAVE_PATCH_PANEL 1
#else
#define ONNX_MINI_HAVE_PATCH_PANEL 0
#endif

namespace onnx_mini {
namespace {

constexpr int64_t kPanel = PackedWeights::kPanelCols;
// Panels per work unit, in floats: whole output rows up to 16 K floats
// (64 KiB, L2; 4 rows of SqueezeNet's 111-pixel stem rows at K = 27, one
// 112-pixel row of ResNet's at K = 147), which every row tile of W meets in turn.
constexpr int64_t kBlockFloats = int64_t{16} << 10;
// Units each thread should get at least, so uneven unit times even out.
constexpr int64_t kUnitsPerThread = 4;

struct PanelJob {
  const ConvGeometry* g;
  const PackedWeights* w;
  const ConvRunArgs* args;
  RegisterEpilogue form;  // activation in registers, when in_registers
  bool in_registers;
  int64_t out_rows;  // output rows per image and group: out[0] * out[1]
  int64_t panels_per_row, rows_per_block, blocks;
  int64_t tile_chunks, tiles_per_chunk;

  int64_t depth() const { return g->in_group_channels() * g->kernel_pixels(); }
};

// Taps per kernel row whose load masks a panel computes once, at most (wider
// kernels, and strides above 2, load each row with gathers).
constexpr int64_t kMaxMaskedTaps = 16;

// The load masks of tap q's row (the values it spans: 32 at stride 1, 64 at
// stride 2, the odd ones unused), for a row segment starting at ix0 in an
// input row of `width`: lanes in the row only, so the padding reads as zeros
// and nothing outside the row is touched. All ones inside the row.
struct TapMasks {
  uint16_t m[kMaxMaskedTaps][4];
};

#if ONNX_MINI_HAVE_PATCH_PANEL

// 16 values at p, lanes outside `mask` zero (kMasked), or all of them.
template <bool kMasked>
__attribute__((target("avx512f"))) inline __m512 load16(const float* p, uint16_t mask) {
  if constexpr (kMasked) return _mm512_maskz_loadu_ps(mask, p);
  return _mm512_loadu_ps(p);
}

// The kw panel rows of one (channel, kd, kh): row q = src[q * d + j * S] for
// the 32 columns j, read with tap q's masks (kMasked: a panel near the row's
// ends) or plain loads (every value the loads touch lies in the row).
// Stride 1: two loads a row; stride 2: the 64 values it spans, their even
// lanes picked by two permutes.
template <int S, bool kMasked>
__attribute__((target("avx512f"))) void load_tap_rows(const float* src, const TapMasks& masks, int64_t kw, int64_t d,
                                                       float* out) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  for (int64_t q = 0; q < kw; ++q, src += d, out += kPanel) {
    const uint16_t* m = masks.m[q];
    if constexpr (S == 1) {
      _mm512_store_ps(out, load16<kMasked>(src, m[0]));
      _mm512_store_ps(out + 16, load16<kMasked>(src + 16, m[1]));
    } else {
      const __m512 r0 = load16<kMasked>(src, m[0]), r1 = load16<kMasked>(src + 16, m[1]);
      const __m512 r2 = load16<kMasked>(src + 32, m[2]), r3 = load16<kMasked>(src + 48, m[3]);
      _mm512_store_ps(out, _mm512_permutex2var_ps(r0, even, r1));
      _mm512_store_ps(out + 16, _mm512_permutex2var_ps(r2, even, r3));
    }
  }
}

// One panel row in general: out[j] = src[start + j * s] for the 32 columns j,
// zero where start + j * s leaves [0, width) (the padding). Masked loads read
// nothing outside the row. Strides 1 and 2 as load_tap_rows; other strides:
// two gathers.
__attribute__((target("avx512f"))) void load_panel_row(const float* src, int64_t width, int64_t start, int64_t s,
                                                        float* out) {
  if (s <= 2) {
    __m512 raw[4];
    for (int64_t v = 0; v < 2 * s; ++v) {
      const int64_t first = start + 16 * v;
      raw[v] = _mm512_maskz_loadu_ps(lane_range_mask(-first, width - first), src + first);
    }
    if (s == 1) {
      _mm512_store_ps(out, raw[0]);
      _mm512_store_ps(out + 16, raw[1]);
      return;
    }
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    _mm512_store_ps(out, _mm512_permutex2var_ps(raw[0], even, raw[1]));
    _mm512_store_ps(out + 16, _mm512_permutex2var_ps(raw[2], even, raw[3]));
    return;
  }
  // Columns [lo, hi) lie in the row.
  const int64_t lo = start >= 0 ? 0 : (s - 1 - start) / s;
  const int64_t hi = width - start <= 0 ? 0 : (width - start + s - 1) / s;
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  for (int64_t v = 0; v < 2; ++v) {
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(start + 16 * v * s)),
                                           _mm512_mullo_epi32(lanes, _mm512_set1_epi32(static_cast<int32_t>(s))));
    _mm512_store_ps(out + 16 * v,
                    _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lane_range_mask(lo - 16 * v, hi - 16 * v), index, src, 4));
  }
}

__attribute__((target("avx512f"))) inline void zero_panel_rows(float* to, int64_t rows) {
  for (int64_t i = 0; i < rows * kPanel; i += 16) _mm512_store_ps(to + i, _mm512_setzero_ps());
}

#else

template <int S, bool kMasked>
void load_tap_rows(const float*, const TapMasks&, int64_t, int64_t, float*) {}  // needs AVX-512F: never reached
void load_panel_row(const float*, int64_t, int64_t, int64_t, float*) {}
void zero_panel_rows(float*, int64_t) {}

#endif

// The [K, 32] panel of output row (od, oh), columns ow0.. of one image and
// group (x: the group's first input channel): row (c, kd, kh, kw) in W's order.
// The load masks depend only on the column range: computed once per panel,
// used only near the row's ends.
void build_panel(const ConvGeometry& g, const float* x, int64_t od, int64_t oh, int64_t ow0, float* panel) {
  const int64_t s = g.stride[2], d = g.dilation[2], kw = g.kernel[2];
  const int64_t ix0 = ow0 * s - g.pad_begin[2];
  const bool masked = s <= 2 && kw <= kMaxMaskedTaps;
  // Whether every value the loads touch lies in the row (64 per row at
  // stride 2, the odd ones unused): plain loads, no masks.
  const bool inner = masked && ix0 >= 0 && ix0 + (kw - 1) * d + kPanel * s <= g.in[2];
  TapMasks masks;
  for (int64_t q = 0; masked && q < kw; ++q) {
    for (int64_t v = 0; v < 2 * s; ++v) {
      const int64_t first = ix0 + q * d + 16 * v;
      masks.m[q][v] = lane_range_mask(-first, g.in[2] - first);
    }
  }
  float* row = panel;
  for (int64_t c = 0; c < g.in_group_channels(); ++c) {
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      const int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad_begin[0];
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh, row += kw * kPanel) {
        const int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad_begin[1];
        if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
          zero_panel_rows(row, kw);
          continue;
        }
        const float* src = x + ((c * g.in[0] + id) * g.in[1] + ih) * g.in[2];
        if (inner) {
          s == 1 ? load_tap_rows<1, false>(src + ix0, masks, kw, d, row)
                 : load_tap_rows<2, false>(src + ix0, masks, kw, d, row);
        } else if (masked) {
          s == 1 ? load_tap_rows<1, true>(src + ix0, masks, kw, d, row)
                 : load_tap_rows<2, true>(src + ix0, masks, kw, d, row);
        } else {
          for (int64_t q = 0; q < kw; ++q) load_panel_row(src, g.in[2], ix0 + q * d, s, row + q * kPanel);
        }
      }
    }
  }
}

// One row tile of W against one panel: `cols` output pixels of Y starting at
// `pixel` in the tile's channel planes.
void multiply_tile(const PanelJob& job, const float* panel, int64_t n, int64_t group, int64_t t, int64_t pixel,
                   int64_t cols) {
  const ConvGeometry& g = *job.g;
  const PackedWeights& w = *job.w;
  const ConvRunArgs& args = *job.args;
  const int64_t P = g.out_pixels(), mg = g.out_group_channels(), T = w.tile_rows();
  const int64_t ch0 = group * mg + t * T, offset = (n * g.out_channels + ch0) * P + pixel;
  RowTileProduct product;
  product.a = w.row_tile(group, t);
  product.a_stride = T;
  product.rows = std::min(T, mg - t * T);
  product.kc = job.depth();
  product.cols = cols;
  product.b = panel;
  product.ldb = kPanel;
  product.b_padded = true;
  product.y = args.y + offset;
  product.ldy = P;
  RegisterEpilogue e = job.in_registers ? job.form : RegisterEpilogue{};
  if (job.in_registers) {
    if (args.bias) e.row_bias = args.bias + ch0;
    if (args.z) e.residual = args.z + offset, e.ld_residual = P;
  }
  multiply_row_tile(product, e);
  if (!job.in_registers) {
    args.epilogue->apply(product.y, P, product.rows, cols, args.bias ? args.bias + ch0 : nullptr,
                         args.z ? args.z + offset : nullptr, P);
  }
}

// A unit: one image and group, a block of whole output rows, a chunk of W's
// row tiles. Every panel of the block is built first; then each row tile runs
// along all of them, so it writes each of its channel rows as one run of the
// block's pixels (a few streams a prefetcher follows, not 2 cache lines of
// every channel plane in turn), with its weights in L1.
void panel_unit(const void* context, int64_t unit) {
  const PanelJob& job = *static_cast<const PanelJob*>(context);
  const ConvGeometry& g = *job.g;
  const auto [n, group, block, chunk] = conv_unit(unit, job.tile_chunks, job.blocks, g.group);
  const int64_t tile_begin = chunk * job.tiles_per_chunk;
  const int64_t tile_end = std::min(job.w->tiles_per_group(), tile_begin + job.tiles_per_chunk);
  const int64_t row_begin = block * job.rows_per_block;
  const int64_t panels = (std::min(job.out_rows, row_begin + job.rows_per_block) - row_begin) * job.panels_per_row;
  const int64_t panel_floats = job.depth() * kPanel;
  float* block_panels = thread_scratch(ScratchSlot::kPatchPanels, job.rows_per_block * job.panels_per_row * panel_floats);
  const float* x = job.args->x + (n * g.in_channels + group * g.in_group_channels()) * g.in_pixels();
  for (int64_t i = 0; i < panels; ++i) {
    const int64_t out_row = row_begin + i / job.panels_per_row;
    build_panel(g, x, out_row / g.out[1], out_row % g.out[1], i % job.panels_per_row * kPanel,
                block_panels + i * panel_floats);
  }
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    for (int64_t i = 0; i < panels; ++i) {
      const int64_t ow0 = i % job.panels_per_row * kPanel;
      multiply_tile(job, block_panels + i * panel_floats, n, group, t,
                    (row_begin + i / job.panels_per_row) * g.out[2] + ow0, std::min(kPanel, g.out[2] - ow0));
    }
  }
}

// Whether rows of `width` output pixels fill the micro-kernel's 16-lane
// vectors well: a row is computed in panels of 32 and a last one of 16 or 32
// lanes, so a 7-pixel row would waste 9 of 16 lanes (the gathered form, which
// puts pixels in the rows of its tiles, wastes none). The same 15 % bound as
// the pointwise form's.
bool fills_lanes(int64_t width) {
  const int64_t full = width / kPanel, rest = width % kPanel;
  const int64_t lanes = full * kPanel + (rest == 0 ? 0 : rest <= 16 ? 16 : kPanel);
  return lanes * 100 <= width * 115;
}

}  // namespace

bool patch_panel_suits(const ConvAttributes& attrs, const TensorInfo& w, const TensorInfo* x) {
  if (!w.has_shape || w.dims.size() < 3) return false;
  int64_t depth = 1;
  for (size_t i = 1; i < w.dims.size(); ++i) {
    if (!w.dims[i].known()) return false;
    depth *= w.dims[i].value;
  }
  if (w.dims[1].value > kMaxPatchPanelChannels || depth > kMaxPatchPanelDepth) return false;
  if (!x) return true;
  TensorInfo y;
  if (!infer_conv_output(attrs, *x, w, nullptr, y).is_ok() || !y.has_shape) return true;  // the run reports it
  const Dim& width = y.dims.back();
  return !width.known() || width.value == 0 || fills_lanes(width.value);
}

bool patch_panel_can_run(const ConvGeometry& g) {
  constexpr int64_t kLimit = int64_t{1} << 29;  // four such terms still sum below 2^31
  return g.in[2] < kLimit && g.pad_begin[2] < kLimit && g.pad_end[2] < kLimit && g.stride[2] < kLimit / kPanel &&
         g.kernel[2] < kLimit && g.dilation[2] < kLimit && (g.kernel[2] - 1) * g.dilation[2] < kLimit;
}

void run_patch_panel(const ConvGeometry& g, const PackedWeights& w, const ConvRunArgs& args) {
  PanelJob job{&g, &w, &args, {}, false, g.out[0] * g.out[1], 0, 0, 0, 1, 0};
  job.in_registers = args.epilogue->register_form(&job.form);
  job.panels_per_row = (g.out[2] + kPanel - 1) / kPanel;
  const int64_t row_floats = job.panels_per_row * job.depth() * kPanel;
  job.rows_per_block = std::clamp<int64_t>(kBlockFloats / row_floats, 1, job.out_rows);
  job.blocks = (job.out_rows + job.rows_per_block - 1) / job.rows_per_block;
  const int64_t units = g.batch * g.group * job.blocks, tiles = w.tiles_per_group();
  const int64_t want = kUnitsPerThread * (args.pool ? args.pool->num_threads() : 1);
  // Few row blocks (a small image at batch 1): the row tiles of W are split too.
  if (units < want) job.tile_chunks = std::min(tiles, (want + units - 1) / units);
  job.tiles_per_chunk = (tiles + job.tile_chunks - 1) / job.tile_chunks;
  job.tile_chunks = (tiles + job.tiles_per_chunk - 1) / job.tiles_per_chunk;
  for_each_task(args.pool, units * job.tile_chunks, panel_unit, &job);
}

}  // namespace onnx_mini
