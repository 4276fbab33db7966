// 3x3 convolutions at stride 1 (dilation 1, one group, 2-D) on Winograd's
// F(2x2, 3x3): each 2x2 block of output pixels (a tile) comes from the 4x4
// input patch around it as
//   Y = A^T [ sum_c (G g_c G^T) .* (B^T d_c B) ] A
// so the products are 16 per tile and channel pair instead of 36: the GEMM
// part does 2.25x fewer multiply-adds than the direct (gathered) form.
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
//
// At init the weight becomes U = G g G^T per (output, input) channel pair,
// computed in double and rounded once, and is packed for the packed
// micro-kernel (ops/packed_gemm.h) as 16 matrices U_xi [M, C], one per
// position xi of the 4x4 transform, in row tiles of output channels. At run:
// - work units are (block of tile rows, chunk of output-channel row tiles);
//   tile rows run across the batch, so small images (7x7: 4x4 tiles) still
//   fill a block. A unit copies its tile rows' input with their zero padding
//   (whole tiles: any padding, odd sizes, the last tile's extra outputs
//   dropped) into a per-thread buffer, transforms it, V_xi [C, tiles] = B^T d B
//   (16 tiles per vector), multiplies M_xi = U_xi V_xi per row tile of output
//   channels on the micro-kernel (tiles as columns), and transforms each row
//   tile's M straight into NCHW Y (A^T m A, two output rows of 32 pixels per
//   16 tiles) with the epilogue: bias, skip tensor Z and ReLU/Clip in
//   registers, any other activation through ConvEpilogue::apply on the
//   finished rows;
// - a tile whose result is not finite (NaN or Inf in its input, or an
//   overflow inside the transforms) is recomputed directly from W, so NaN and
//   Inf come out where the direct convolution puts them (the transforms would
//   otherwise turn an Inf into NaN across the tile: Inf - Inf).
// Scratch comes from per-thread buffers that only grow.
//
// Rounding: the transforms use only 0, +-1 and +-1/2, so the error stays a
// small multiple of the direct form's (tests/ops/conv_winograd_test.cc derives
// the bound).
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
  // Input and output channels below this run on the gathered form: the input
  // and output transforms cost about as much per channel as the GEMM saves
  // per channel pair. On a Zen 5 core (two 512-bit FMA pipes, so the GEMM is
  // cheap beside the transforms) SqueezeNet's 16 -> 64 at 55x55 and 32 -> 128
  // at 27x27 took longer here than gathered: 1.15-1.43x per layer (onnx-run
  // --profile, batch 1, 1 thread, two pairs, 2026-12-03); whole SqueezeNet at
  // batch 1 on 2 threads 0.94x the time with them gathered, on 1 thread within
  // noise. ResNet-18's 64 -> 64 at 56x56 still gains (0.78x per layer on 2
  // threads).
  static constexpr int64_t kMinChannels = 64;
  // Images known at load to be narrower than this (under 8 tiles per row: the
  // transforms fill under half of their 16-tile vectors) run here only with
  // at least kMinChannelsNarrow input channels, where the GEMM dominates
  // (256 channels at 14x14 gains). From 32 channels, SqueezeNet's
  // 48 -> 192 and 64 -> 256 at 13x13 took 0.93 / 0.87 of the gathered form's
  // time at batch 1 on one thread (bench_conv), but whole models on 2 threads
  // at batch 1 took longer (onnx-run, 3 interleaved rounds: ResNet-18 on 32x32
  // 1.23x, SqueezeNet 1.12x): a single block split over channel chunks
  // transforms its input again per chunk.
  static constexpr int64_t kNarrowImage = 16;
  static constexpr int64_t kMinChannelsNarrow = 128;
  // Images known at load to be smaller than this in height or width never run
  // here: a handful of tiles cannot pay for reading U, 16/9 the size of W, and
  // at batch 1 (or image by image, runtime/batch_split.h) reading it is the
  // layer's time. ResNet-18 on 32x32 inputs, 1 thread: 512 channels at 1x1
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
  // Whether a session runs it here, given input `x` (its info at load, or
  // null): enabled(), can_run(), M, C >= kMinChannels, and neither a narrow
  // image with few channels nor a small image (above).
  static bool applies(const Tensor& w, const ConvAttributes& attrs, const TensorInfo* x = nullptr);
  // Transforms and packs W (can_run() is true).
  Status init(const Tensor& w);
  // Y from X; `w` is the original weight (read only for tiles whose result is
  // not finite). g is 2-D with a 3x3 kernel at stride 1.
  void run(const ConvGeometry& g, const float* w, const ConvRunArgs& args) const;

 private:
  PackedWeights u_;  // kRowTiles, 16 groups (one per position xi) of M rows x C
};

}  // namespace onnx_mini
