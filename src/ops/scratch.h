// Per-thread working memory for kernels that need some per run (an operand
// packed per run, a broadcast Scale expanded once): each thread keeps one buffer
// per slot that only ever grows, so a steady-state run allocates nothing once
// every thread has seen the largest shape. Kernels stay stateless: nothing in a
// slot outlives the call that filled it.
#pragma once

#include <cstdint>

namespace onnx_mini {

// The slots one kernel may hold at once (distinct slots never overlap).
enum class ScratchSlot {
  kPackedB, kNormScale, kNormBias, kScores, kScoresBroadcast,
  kIndexWork,    // TopK's (value, index) rows, ScatterND's map of written slices
  kPixelPanels,  // a 1x1 convolution's input pixels in panels (ops/conv_pixel_panels.h)
  kPatchPanels,  // a short-reduction convolution's input patches (ops/conv_patch_panel.h)
  kPhasePlanes,  // an image split into phase planes, shared by a dispatch's threads (ops/conv_phase_planes.h)
  kWinogradPatches, kWinogradV, kWinogradM,  // a Winograd unit's padded rows, B^T d B, U V (ops/conv_winograd.h)
  kDepthwiseBlock,  // 16 channels of a depthwise plane, channel-blocked (ops/conv_depthwise_blocked.h)
  kPaddedImage,     // a gathered convolution unit's zero-bordered rows of one image (ops/conv_packed.cc)
  kDepthPartials,   // a depth-split 1x1 convolution's partial sums, shared by a dispatch's threads (ops/conv_packed.h)
  kCount
};

// At least `floats` floats of 64-byte aligned storage for the calling thread;
// contents unspecified. Valid until the same thread asks for the same slot again.
float* thread_scratch(ScratchSlot slot, int64_t floats);

}  // namespace onnx_mini
