// The patch-panel form of the packed convolution (ops/conv_packed.h): an
// implicit GEMM for convolutions with a short reduction K = C/group x kernel
// (the RGB stem of an ImageNet CNN: K = 27 for 3x3, 147 for 7x7), with output
// channels as rows and output pixels as columns, so that every 12 x 32 tile of
// Y goes straight into its NCHW rows with the epilogue in registers.
//
// For each run of up to 32 output pixels along an output row it builds the
// [K, 32] patch panel (row (c, kd, kh, kw) holds the 32 input values that tap
// meets; zero where the window leaves the image) in a per-thread buffer, then
// runs every row tile of W (PackedWeights::kRowTiles) against it with
// multiply_row_tile. A panel of K <= kMaxPatchPanelDepth rows stays in L1
// while the row tiles stream past it, and the whole reduction runs in one
// micro-kernel call (no partial sums).
//
// Building a panel: each row is read from X with masked vector loads (zeros
// where the window leaves the image, nothing read outside it; the masks
// computed once per panel): at stride 2 the 64 values the row spans, whose
// even lanes two permutes pick; at larger strides, gathers.
//
// Why not the gathered form for these: with K = 27 its 12-pixel x 32-channel
// tiles spend more time being transposed into NCHW than being computed.
#pragma once

#include "core/tensor_info.h"
#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"

namespace onnx_mini {

// The longest reduction the form takes: 256 x 32 floats (32 KiB) of panel.
inline constexpr int64_t kMaxPatchPanelDepth = 256;
// The most input channels per group it takes. Measured against the gathered
// form (one-node models, batch 1, one thread, loaded machine): 3x3 with 4
// input channels at 112x112 0.64x its time, 8 channels 0.94x, 16 and 24 at
// 56x56 1.10x and 1.05x; 1x1 stride 2 with 64 and 128 channels 1.16x and
// 1.10x. The gathered form's transpose pays off once the reduction is long;
// building panels costs the same per pixel and channel whatever M is.
inline constexpr int64_t kMaxPatchPanelChannels = 4;

// Whether the patch-panel form should run a convolution with weight `w`
// ([M, C/group, kernel...]) on input `x` (its info at load, may be null or
// partly unknown): at most kMaxPatchPanelChannels input channels per group,
// a reduction of at most kMaxPatchPanelDepth, output rows that fill vectors.
bool patch_panel_suits(const ConvAttributes& attrs, const TensorInfo& w, const TensorInfo* x);

// Whether the form can run this geometry: every offset a panel row uses
// within its input row (padding, 32 columns x stride, the taps' reach) fits
// the 32-bit indices of its gathers. False only for absurd attributes (a
// stride above 2^24, a row or padding above 2^29).
bool patch_panel_can_run(const ConvGeometry& g);

// Y = epilogue(conv(X, W)) with W packed by PackedWeights::pack_rows (`groups`
// = g.group). Needs PackedWeights::supported() and
// g.in_group_channels() * g.kernel_pixels() <= kMaxPatchPanelDepth.
void run_patch_panel(const ConvGeometry& g, const PackedWeights& w, const ConvRunArgs& args);

}  // namespace onnx_mini
