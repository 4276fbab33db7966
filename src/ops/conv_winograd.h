// 3x3 convolutions at stride 1 (dilation 1, one group, 2-D) on Winograd's
// F(m x m, 3x3), m = 2 or 4: each m x m block of output pixels (a tile) comes
// from the (m + 2) x (m + 2) input patch around it as
//   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
// so the products are (m + 2)^2 per tile and channel pair instead of 9 m^2:
// the GEMM part does 2.25x (F(2x2): 16 for 36) or 4x (F(4x4): 36 for 144)
// fewer multiply-adds than the direct (gathered) form.
//   F(2x2): B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//           G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//           A^T = [1 1 1 0; 0 1 -1 -1]
//   F(4x4): B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0;
//                  0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//           G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6;
//                  1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//           A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//
// At init the weight becomes U = G g G^T per (output, input) channel pair,
// computed in double and rounded once, and is packed for the packed
// micro-kernel (ops/packed_gemm.h) as (m + 2)^2 matrices U_xi [M, C], one per
// position xi of the transform, in row tiles of output channels. At run:
// - work units are (block of tile rows, chunk of output-channel row tiles);
//   tile rows run across the batch, so small images still fill a block. A
//   unit copies its tile rows' input with their zero padding (whole tiles:
//   any padding, odd sizes, the last tile's extra outputs dropped) into a
//   per-thread buffer, transforms it, V_xi [C, tiles] = B^T d B (16 tiles per
//   vector), multiplies M_xi = U_xi V_xi per row tile of output channels on
//   the micro-kernel (tiles as columns), and transforms each row tile's M
//   straight into NCHW Y (A^T m A, m output rows of 16 m pixels per 16 tiles)
//   with the epilogue: bias, skip tensor Z and ReLU/Clip in registers, any
//   other activation through ConvEpilogue::apply on the finished rows;
// - a tile whose result is not finite (NaN or Inf in its input, or an
//   overflow inside the transforms) is recomputed directly from W, so NaN and
//   Inf come out where the direct convolution puts them (the transforms would
//   otherwise turn an Inf into NaN across the tile: Inf - Inf).
// Scratch comes from per-thread buffers that only grow.
//
// Rounding: F(2x2)'s transforms use only 0, +-1 and +-1/2, so its error stays
// a small multiple of the direct form's; F(4x4)'s larger coefficients allow a
// worst case about 36x F(2x2)'s (tests/ops/conv_winograd_test.cc derives both
// bounds). ONNX_MINI_WINOGRAD=2 runs F(2x2) wherever Winograd runs.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/tensor_info.h"
#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

class WinogradConv {
 public:
  // Where a session runs which form (measured on a Zen 4 core, 2 vCPUs, whose
  // 512-bit FMAs issue as two 256-bit halves, so the GEMM is dear beside the
  // transforms; one Conv + Relu at batch 1, onnx-run --repeat 300, best of 3,
  // gathered / F(2x2) / F(4x4) in us, 2026-12-07):
  // - F(4x4) wherever the image is 12+ pixels each way and both channel
  //   counts are 16+: 16 -> 64 at 55x55 549 / 415 / 274, 32 -> 128 at 27x27
  //   509 / 347 / 281, 16 -> 16 at 56x56 281 / 142 / 101, 128 at 14x14 536 /
  //   406 / 295; on 2 threads 282 / 232 / 156, 263 / 232 / 161, 147 / 77 / 58,
  //   283 / 217 / 196. With fewer channels it is no gain: 3 -> 16 at 56x56
  //   31 / 50 / 37, 8 -> 32 at 28x28 38 / 40 / 40.
  static constexpr int64_t kMinChannels = 16;
  // Images known to be narrower than this (the transforms fill part of their
  // 16-tile vectors) need this many input channels: at 13x13 48 -> 192 255 /
  // 234 / 175, 64 -> 256 449 / 388 / 275, but 32 -> 64 59 / 71 / 59 and 16 ->
  // 32 16 / 26 / 25 (on 2 threads 38 / 48 / 42).
  static constexpr int64_t kNarrowImage = 16;
  static constexpr int64_t kMinChannelsNarrow = 48;
  // Images known to be smaller than this in height or width have too few
  // 4x4 tiles to fill the micro-kernel's 32-column panels (an 8x8 image at
  // batch 1 has 4): F(2x2) there, with 64+ channels each way and, on images
  // under kNarrowImage columns, 128+ input channels: at 8x8 128 -> 128 184 /
  // 133 / 239, 256 -> 256 722 / 409 / 822, 64 -> 64 48 / 47 / 78.
  static constexpr int64_t kMinImageLarge = 12;
  static constexpr int64_t kMinChannelsSmall = 64;
  static constexpr int64_t kMinChannelsSmallNarrow = 128;
  // Images known to be smaller than this in height or width never run here: a
  // handful of tiles cannot pay for reading U (16/9 the size of W in F(2x2),
  // 36/9 in F(4x4)), and at batch 1 (or image by image,
  // runtime/batch_split.h) reading it is the layer's time. ResNet-18 on 32x32 inputs, 1 thread: 512 channels at 1x1
  // took 2.0 ms against the gathered form's 0.51, 256 at 2x2 0.54 against
  // 0.30, 128 at 4x4 0.15 against 0.13. At 7x7 (ResNet-18's last stage: 16
  // tiles covering 8x8, 30 % of them padding) the whole model at 224x224
  // took 0.95x the time with it off on 1 thread and 0.92x on 2 (Zen 5,
  // 3 alternated rounds).
  static constexpr int64_t kMinImage = 8;

  // The packed kernel is on (PackedWeights::enabled()) and Winograd is not
  // turned off with ONNX_MINI_WINOGRAD=0 (read at session build): for
  // benchmarks and tests of the gathered form.
  static bool enabled();
  // Whether this kernel computes a convolution with constant weight `w` and
  // these attributes at all: float W [M, C, 3, 3], one group, unit strides
  // and dilations, every weight finite (U would carry a NaN into every tile).
  static bool can_run(const Tensor& w, const ConvAttributes& attrs);
  // The form a session runs it in, given input `x` (its info at load, or
  // null): 0 (not here: !enabled(), !can_run(), or too few channels or
  // pixels, above), 2 for F(2x2) or 4 for F(4x4); 2 wherever it runs when
  // ONNX_MINI_WINOGRAD=2.
  static int64_t out_tile_for(const Tensor& w, const ConvAttributes& attrs, const TensorInfo* x = nullptr);
  // Transforms and packs W for F(out_tile x out_tile, 3x3), out_tile 2 or 4
  // (can_run() is true).
  Status init(const Tensor& w, int64_t out_tile);
  // Y from X; `w` is the original weight (read only for tiles whose result is
  // not finite). g is 2-D with a 3x3 kernel at stride 1.
  void run(const ConvGeometry& g, const float* w, const ConvRunArgs& args) const;
  // U as packed by init (for tests: PackedWeights::unpack_rows gives
  // [positions * M, C], block xi holding U_xi).
  const PackedWeights& transformed_weight() const { return u_; }

 private:
  int64_t out_tile_ = 2;  // F(2x2, 3x3) or F(4x4, 3x3)
  PackedWeights u_;  // kRowTiles, one group per position xi of M rows x C
};

}  // namespace onnx_mini
