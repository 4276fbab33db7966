// The input of a 1x1 convolution without padding, copied per run into the
// packed kernel's right-operand layout (ops/packed_gemm.h): per image and
// group, the output pixels in panels of 32, each panel [Cg channels][32] with
// the pixels of one channel contiguous, 64-byte aligned, the last panel's
// missing pixels zero.
//
// Why a copy when X could be read in place: in place, every step of the
// micro-kernel loads 32 pixels of one channel from a row P floats after the
// last (784 bytes at 14x14), unaligned and masked; two or three cache lines per
// step, and a 32-pixel column of X over a depth chunk of 192 channels no longer
// fits in L1 next to the weight. From a panel it loads one aligned line pair
// and walks memory in order. The copy is one pass over the pixels the
// convolution reads, each then used by every output channel (64..1280 of them).
// With a stride it is also what picks out the strided pixels, so a stride-2
// 1x1 runs as a plain GEMM over a quarter of X.
#pragma once

#include <cstdint>

#include "ops/conv_geometry.h"

namespace onnx_mini {

class ThreadPool;

class PixelPanels {
 public:
  static constexpr int64_t kPanel = 32;  // PackedPanels::kPanelCols

  // Copies X's output pixels of every image and group of a 1x1 convolution
  // without padding (any stride) into the calling thread's scratch, split over
  // `pool`. Valid until the calling thread packs again.
  static PixelPanels pack(const ConvGeometry& g, const float* x, ThreadPool* pool);

  int64_t panels() const { return panels_; }
  // Panel p of image n, group `group`: row c (input channel c of the group) at
  // + c * kPanel.
  const float* panel(int64_t n, int64_t group, int64_t p) const {
    return data_ + ((n * groups_ + group) * panels_ + p) * depth_ * kPanel;
  }

 private:
  const float* data_ = nullptr;
  int64_t groups_ = 1, panels_ = 0, depth_ = 0;
};

}  // namespace onnx_mini
