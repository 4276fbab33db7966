// The phase-plane form of the packed convolution: the RGB stems (few input
// channels, a short reduction) without building patch panels.
//
// Each image's input is first split into phase planes, zero padded: for
// strides (sh, sw), plane (c, ph, pw) holds padded input rows ph, ph + sh, ...
// and columns pw, pw + sw, ... (at stride 1: one padded copy per channel).
// In a plane every tap (c, kh, kw) of the kernel reads the same rows for all
// output pixels, shifted by a constant offset, and, with the planes' rows
// Ws = Wo + (KW - 1) * dw / sw wide, consecutive output pixels of a row read
// consecutive floats. The micro-kernel then loads the 32 or 48 values of a
// tap straight from the plane (no panel built: no permutes, no masks, no copy
// of K x 32 floats per 32 pixels) and its pixels run on across output rows:
// the Ws - Wo columns past each row's end are computed and not stored (2.6 %
// of the work for ResNet's 7x7 stem, 0.9 % for the 3x3 ones), where the
// patch-panel form ends every row with a 16-lane tile that runs at half speed.
// Tiles of up to 8 output channels (the stems' 64 and 32 take 8) take 48
// pixels a call, taller ones 32: 24 accumulators either way.
//
// The split costs one pass over the input (C x H x W floats read, as many
// written) per image.
#pragma once

#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"

namespace onnx_mini {

// Whether the form runs this convolution with this epilogue: 1-D or 2-D, one
// group, strides up to 8, an epilogue the micro-kernel applies in registers,
// a reduction of at most kMaxPatchPanelDepth, at most 15 % of computed
// columns past the rows' ends, and phase planes of at most 4 M floats
// (16 MiB) per image.
bool phase_planes_can_run(const ConvGeometry& g, const ConvRunArgs& args);

// Y = epilogue(conv(X, W)) with W packed by PackedWeights::pack_rows (one
// group). Needs PackedWeights::supported() and phase_planes_can_run(g, args).
void run_phase_planes(const ConvGeometry& g, const PackedWeights& w, const ConvRunArgs& args);

}  // namespace onnx_mini
