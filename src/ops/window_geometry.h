// Sliding-window geometry of the pooling ops (and of anything else with
// kernel_shape / strides / dilations / pads / auto_pad / ceil_mode): the
// attributes parsed once, then per input shape the output size and the
// effective padding of every spatial axis, with the checks that make a window
// meaningful (the kernel fits the padded input, no window sees only padding).
//
// Output size per axis (ONNX MaxPool/AveragePool/LpPool, every version), with
// extent = dilation * (kernel - 1) + 1:
//   NOTSET: floor((in + pad_begin + pad_end - extent) / stride) + 1, or ceil(...)
//           with ceil_mode, dropping a last window that would start past the
//           input and its left padding (PyTorch's rule, written into the spec
//           at opset 22 as "windows that would start in the right padded region
//           are ignored"; the earlier texts leave it open);
//   VALID:  floor((in - extent) / stride) + 1, no padding;
//   SAME_UPPER / SAME_LOWER: ceil(in / stride), padded by
//           max(0, (out - 1) * stride + extent - in), the odd pixel at the end
//           (UPPER) or the beginning (LOWER).
// ceil_mode does not change the auto_pad sizes: ceil(in / s) is already
// floor((in - 1) / s) + 1, and the VALID forms agree likewise.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/attributes.h"
#include "core/status.h"

namespace onnx_mini {

// Spatial ranks above this are refused at load (ONNX puts no bound; real models
// use 1 to 3): per-run geometry then lives in fixed arrays, never on the heap.
inline constexpr int kMaxSpatialRank = 8;

// Conv's and ConvTranspose's too (ops/conv_geometry.h).
enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// The attribute's value: NOTSET, SAME_UPPER, SAME_LOWER or VALID (else an
// error that lists them).
Result<AutoPad> parse_auto_pad(const std::string& s);

// One spatial axis for one input size.
struct AxisWindow {
  int64_t in = 0, out = 0;
  int64_t kernel = 1, stride = 1, dilation = 1;
  int64_t pad_begin = 0, pad_end = 0;

  int64_t extent() const { return dilation * (kernel - 1) + 1; }
  // First input index the window of output o reads (may be negative: padding).
  int64_t start(int64_t o) const { return o * stride - pad_begin; }
  // Number of taps j in [0, kernel) of output o with lo <= start(o) + j * dilation < hi.
  int64_t taps_within(int64_t o, int64_t lo, int64_t hi) const;
  // Taps on real input elements (count_include_pad = 0 divisors, "only padding" checks).
  int64_t input_taps(int64_t o) const { return taps_within(o, 0, in); }
  // Taps on input or explicit padding, not on what ceil_mode hangs past it
  // (count_include_pad = 1 divisors, as PyTorch and ONNX Runtime count).
  int64_t padded_taps(int64_t o) const { return taps_within(o, -pad_begin, in + pad_end); }
  // Outputs [lo, hi) whose every tap is on the input.
  int64_t interior_begin() const;
  int64_t interior_end() const;
};

struct WindowGeometry {
  int rank = 0;
  std::array<AxisWindow, kMaxSpatialRank> axes{};
};

class WindowAttributes {
 public:
  // Reads kernel_shape (required), strides, dilations, pads, auto_pad and
  // ceil_mode with the spec's defaults; every list must have one entry per
  // spatial axis (pads two) and sane values.
  static Result<WindowAttributes> parse(const Attributes& attrs);

  int rank() const { return static_cast<int>(kernel_.size()); }
  AutoPad auto_pad() const { return auto_pad_; }

  // The window of spatial axis `axis` for an input of size `in` along it;
  // an error (the numbers spelled out) when the kernel does not fit.
  Result<AxisWindow> axis(int axis, int64_t in) const;
  // All spatial axes of an input whose spatial dims are `in` (rank() of them).
  Result<WindowGeometry> geometry(std::span<const int64_t> in) const;

 private:
  std::vector<int64_t> kernel_, strides_, dilations_, pads_;
  AutoPad auto_pad_ = AutoPad::kNotSet;
  bool ceil_mode_ = false;
};

// Error unless every output window covers at least one input element (max and
// count_include_pad = 0 averages are undefined over padding alone); `axis`
// names the spatial axis in the message.
Status check_no_padding_only_window(const AxisWindow& w, int axis);
Status check_no_padding_only_window(const WindowGeometry& g);

}  // namespace onnx_mini
