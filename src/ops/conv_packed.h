// Convolution with a constant weight on the packed kernel (ops/packed_gemm.h),
// in NCHW, the weight packed once at session build. Three forms, chosen at init
// from the weight's shape and the attributes:
//
// - pointwise (1x1, any stride, no padding, unless the output image is known
//   at load to be so small that its pixels fill their vectors poorly, e.g.
//   7x7): per image and group, Y = W * X is a GEMM: W packed as the left
//   operand in row tiles (8..12 output channels), X's output pixels streamed in
//   panels of 32, each 12 x 32 tile of Y stored straight into its place with
//   the epilogue (bias, skip tensor, ReLU/ReLU6) in registers. X is read in
//   place at stride 1 with few output channels, else first copied into
//   aligned panels once per run (ops/conv_pixel_panels.h; with a stride the
//   copy picks out the strided pixels). A row tile runs along a block of
//   panels (X's block stays in L1/L2 for the next tile) so its output rows are
//   written in long runs.
//
// - gathered (every other kernel, stride, dilation and padding, 1-D to 3-D):
//   an implicit GEMM with output pixels as rows: the micro-kernel reads each
//   pixel's inputs in place through a pointer per pixel and one offset per
//   (channel, kernel position), so there is no im2col buffer; padding is a
//   zero border around a copy of the input (one pass over X, cheap beside the
//   M * kernel multiply-adds each input value takes part in); a tile of
//   output rows whose windows reach into the padding above or below the image
//   leaves out the kernel rows that read only zeros (when every weight is
//   finite). W is packed as
//   the right operand (panels of 32 output channels, per group). A 12-pixel x
//   32-channel tile is transposed in registers on its way into NCHW Y, with the
//   epilogue.
//
// - patch panel (at most 4 input channels per group, C/group x kernel <= 256,
//   on rows of output pixels that fill the vectors: the RGB stems): output
//   channels as rows against [K, 32] panels of input patches built per run,
//   each tile stored straight into NCHW, ops/conv_patch_panel.h. A 1-D or 2-D
//   one of one group whose epilogue runs in registers reads its taps from the
//   input split into phase planes instead, building no panels,
//   ops/conv_phase_planes.h.
//
// Work is split over the session's threads by (image, group, pixel block,
// channel panel). Scratch (the padded input, the offset table, tile buffers)
// comes from per-thread buffers that only grow: no allocation in steady state.
#pragma once

#include <memory>

#include "core/tensor.h"
#include "ops/conv_epilogue.h"
#include "ops/conv_geometry.h"
#include "ops/kernel.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

class ThreadPool;

struct ConvRunArgs {
  const float* x = nullptr;
  const float* bias = nullptr;  // [M] or null
  const float* z = nullptr;     // shaped like Y, or null
  float* y = nullptr;
  const ConvEpilogue* epilogue = nullptr;
  ThreadPool* pool = nullptr;
};

class PackedConv {
 public:
  // Whether the packed kernel can run a convolution whose constant weight is
  // `w` (float, rank >= 3): the CPU has AVX-512F and it is not turned off.
  static bool applies(const Tensor& w);
  // Asks for W to be packed (through node.packed_weights in a session, or
  // right here) in the form its shape and the attributes call for.
  Status init(const NodeInfo& node, const Tensor& w, const ConvAttributes& attrs);
  // Whether it can run this geometry (the gathered form addresses X with
  // 32-bit offsets: false for an image above 2^31 elements; the patch-panel
  // form for rows whose offsets do not fit 32 bits, see patch_panel_can_run).
  bool can_run(const ConvGeometry& g) const;
  void run(const ConvGeometry& g, const ConvRunArgs& args) const;
  bool pointwise() const { return form_ == Form::kPointwise; }

 private:
  enum class Form { kPointwise, kGathered, kPatchPanel };

  void run_pointwise(const ConvGeometry& g, const ConvRunArgs& args) const;
  void run_gathered(const ConvGeometry& g, const ConvRunArgs& args) const;

  std::shared_ptr<const PackedWeights> weights_;
  Form form_ = Form::kGathered;
  bool skip_padding_taps_ = false;  // gathered: W is finite, taps on the padding may be left out
};

}  // namespace onnx_mini
