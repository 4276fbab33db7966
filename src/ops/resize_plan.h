// Resize and Upsample geometry: the attributes of every version, the output
// size from scales or sizes (axes, keep_aspect_ratio_policy), and per-axis
// tables of source indices and weights, built once per input shape so the
// kernel never recomputes a coordinate per pixel.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"
#include "ops/kernel.h"

namespace onnx_mini {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class CoordinateMode { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric,
                            kTfHalfPixelForNn, kTfCropAndResize };
// kLegacy: Upsample and Resize-10 (asymmetric coordinates, the index
// truncated when enlarging and rounded up when shrinking, as ONNX Runtime does).
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kLegacy };
enum class AspectPolicy { kStretch, kNotLarger, kNotSmaller };

inline constexpr int kMaxResizeRank = 8;

struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  CoordinateMode coordinates = CoordinateMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  AspectPolicy policy = AspectPolicy::kStretch;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  bool antialias = false;
  float extrapolation = 0.f;
  std::vector<int64_t> axes;        // opset 18; empty = every axis
  std::vector<float> attr_scales;   // Upsample-7
  bool upsample = false;            // Upsample: scales >= 1
  int scales_input = 1, sizes_input = -1, roi_input = -1;  // input slots (-1: none)
};

Result<ResizeAttrs> parse_resize_attrs(const NodeInfo& node);

// What one run asks for: output size and coordinate scale per axis, and the roi.
struct ResizeRequest {
  int rank = 0;
  int64_t in[kMaxResizeRank] = {}, out[kMaxResizeRank] = {};
  double scale[kMaxResizeRank] = {};
  double roi_start[kMaxResizeRank] = {}, roi_end[kMaxResizeRank] = {};
};

// From the input shape and the scales / sizes / roi values (null when absent).
// Errors are invalid-model statuses; the kernel turns them into bad input for fed data.
Result<ResizeRequest> resize_request(const ResizeAttrs& a, std::span<const int64_t> in_shape, const Tensor* scales,
                                     const Tensor* sizes, const Tensor* roi);

// Taps of one axis: output position o reads index[o * taps + k] with weight[o * taps + k];
// outside[o] marks tf_crop_and_resize positions that take the extrapolation value.
struct AxisTable {
  int64_t in = 0, out = 0;
  int taps = 1;
  bool identity = false;  // out == in and every position reads itself with weight 1
  std::vector<int64_t> index;
  std::vector<float> weight;
  std::vector<uint8_t> outside;
  bool any_outside = false;
};

AxisTable build_axis_table(const ResizeAttrs& a, const ResizeRequest& r, int axis);

}  // namespace onnx_mini
