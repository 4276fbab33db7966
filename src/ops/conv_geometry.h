// Conv and ConvTranspose attributes and the geometry they give for concrete
// shapes: output sizes, the padding each side really gets (auto_pad resolved),
// and the checks that make a model invalid (kernel larger than the padded
// input, channels that do not divide by `group`, a weight that disagrees with
// the input's channels, a negative output size), each message showing the numbers.
//
// Formulas (ONNX Conv-11 / ConvTranspose-11, also applied to version 1):
//   dilated kernel   dk = (k - 1) * d + 1
//   Conv, explicit   out = floor((in + pad_begin + pad_end - dk) / s) + 1
//   Conv, SAME_*     out = ceil(in / s), total pad = max(0, (out - 1) * s + dk - in),
//                    the odd unit at the end (SAME_UPPER) or the beginning (SAME_LOWER)
//   Conv, VALID      no padding
//   ConvTranspose    full = s * (in - 1) + dk (every input pixel's footprint);
//                    explicit: out = full + output_padding - pad_begin - pad_end;
//                    output_shape (or SAME_*: out = in * s): total = full + output_padding - out,
//                    SAME_UPPER: begin = floor(total / 2), else begin = total - floor(total / 2)
//                    (a negative total extends the output with zeros past the footprint).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/status.h"
#include "core/tensor_info.h"
#include "ops/window_geometry.h"  // AutoPad and its parser, shared with the pools

namespace onnx_mini {

// Spatial dimensions the kernels run: 1-D, 2-D and 3-D convolutions.
inline constexpr int kMaxConvSpatial = 3;

struct ConvAttributes {
  AutoPad auto_pad = AutoPad::kNotSet;
  int64_t group = 1;
  // Empty when absent: kernel_shape then comes from W, strides and dilations
  // are ones, pads and output_padding zeros.
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
  std::vector<int64_t> output_padding, output_shape;  // ConvTranspose only
  bool transpose = false;

  // The attributes of Conv (transpose = false) or ConvTranspose.
  static Result<ConvAttributes> parse(const Attributes& attrs, bool transpose);
};

// Sizes of one convolution. Spatial arrays hold the op's spatial dims at their
// end, leading entries 1 (a 2-D convolution is (1, H, W)), so kernels loop over
// three levels whatever the rank. Padding may be negative only for
// ConvTranspose with output_shape (output extended past the footprint).
struct ConvGeometry {
  using Dims = std::array<int64_t, kMaxConvSpatial>;
  int spatial = 0;  // 1, 2 or 3
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  Dims in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1}, dilation{1, 1, 1};
  Dims pad_begin{0, 0, 0}, pad_end{0, 0, 0};

  int64_t in_pixels() const { return in[0] * in[1] * in[2]; }
  int64_t out_pixels() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_pixels() const { return kernel[0] * kernel[1] * kernel[2]; }
  // Conv: the reduction length of one output (input channels of a group times
  // the kernel); ConvTranspose: output channels of a group times the kernel.
  int64_t in_group_channels() const { return in_channels / group; }
  int64_t out_group_channels() const { return out_channels / group; }
  // A 1x1 convolution reading every input pixel once, in order: a plain GEMM.
  bool is_pointwise() const;
  // Output dims [N, M, spatial...]: the first spatial + 2 entries.
  std::array<int64_t, kMaxConvSpatial + 2> output_dims() const;
  // Spatial axis i (0-based among the op's spatial dims) in the arrays above.
  static int slot(int spatial, int i) { return kMaxConvSpatial - spatial + i; }
};

// A convolution's work unit numbered image, group, pixel block, then a
// last index (a chunk of W's row tiles or a range of its panels) fastest, so
// that the calling thread, dealt units from the front, takes the top rows of
// every image: unit = ((n * group + g) * blocks + block) * inner + i.
struct ConvUnit {
  int64_t n, group, block, inner;
};
inline ConvUnit conv_unit(int64_t unit, int64_t inner_count, int64_t blocks, int64_t groups) {
  const int64_t block_index = unit / inner_count, image_group = block_index / blocks;
  return {image_group / groups, image_group % groups, block_index % blocks, unit % inner_count};
}

// Geometry for X [N, C, ...] and W (both rank >= 3): Conv's W [M, C / group,
// k...], or ConvTranspose's [C, M / group, k...] when attrs.transpose.
// Allocates nothing (kernels call it on every run).
Result<ConvGeometry> conv_geometry(const ConvAttributes& attrs, const Shape& x, const Shape& w);

// Load-time inference and validation of Y from X and W's infos (symbolic
// batch and unknown spatial sizes stay unknown); checks the bias B [M] too.
Status infer_conv_output(const ConvAttributes& attrs, const TensorInfo& x, const TensorInfo& w, const TensorInfo* b,
                         TensorInfo& y);

}  // namespace onnx_mini
