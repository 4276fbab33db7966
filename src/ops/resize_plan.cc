// Resize / Upsample geometry (see resize_plan.h). Formulas from the operator
// specification: the coordinate transformations of opsets 11-19, the cubic
// convolution kernel with coefficient A, and opset 18's antialiasing filters
// (the linear and cubic kernels stretched by 1 / scale when shrinking and
// normalized to sum 1). Coordinates and weights are computed in double, once
// per input shape, and stored as float.
#include "ops/resize_plan.h"

#include <algorithm>
#include <cmath>

namespace onnx_mini {
namespace {

Result<ResizeMode> parse_mode(const NodeInfo& node, bool cubic_allowed) {
  OM_ASSIGN_OR_RETURN(std::string mode, node.attrs().get_string("mode", "nearest"));
  if (mode == "nearest") return ResizeMode::kNearest;
  if (mode == "linear") return ResizeMode::kLinear;
  if (mode == "cubic" && cubic_allowed) return ResizeMode::kCubic;
  return invalid_model("attribute 'mode' is '" + mode + "'; expected nearest, linear" +
                       (cubic_allowed ? " or cubic" : ""));
}

Result<CoordinateMode> parse_coordinates(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(std::string m, node.attrs().get_string("coordinate_transformation_mode", "half_pixel"));
  if (m == "half_pixel") return CoordinateMode::kHalfPixel;
  if (m == "pytorch_half_pixel") return CoordinateMode::kPytorchHalfPixel;
  if (m == "align_corners") return CoordinateMode::kAlignCorners;
  if (m == "asymmetric") return CoordinateMode::kAsymmetric;
  if (m == "tf_crop_and_resize") return CoordinateMode::kTfCropAndResize;
  if (m == "tf_half_pixel_for_nn" && node.since_version == 11) return CoordinateMode::kTfHalfPixelForNn;
  if (m == "half_pixel_symmetric" && node.since_version >= 19) return CoordinateMode::kHalfPixelSymmetric;
  return invalid_model("attribute 'coordinate_transformation_mode' is '" + m + "', not one opset " +
                       std::to_string(node.since_version) + " defines");
}

Result<NearestMode> parse_nearest(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(std::string m, node.attrs().get_string("nearest_mode", "round_prefer_floor"));
  if (m == "round_prefer_floor") return NearestMode::kRoundPreferFloor;
  if (m == "round_prefer_ceil") return NearestMode::kRoundPreferCeil;
  if (m == "floor") return NearestMode::kFloor;
  if (m == "ceil") return NearestMode::kCeil;
  return invalid_model("attribute 'nearest_mode' is '" + m + "'; expected round_prefer_floor, round_prefer_ceil, "
                       "floor or ceil");
}

Result<AspectPolicy> parse_policy(const NodeInfo& node) {
  OM_ASSIGN_OR_RETURN(std::string m, node.attrs().get_string("keep_aspect_ratio_policy", "stretch"));
  if (m == "stretch") return AspectPolicy::kStretch;
  if (m == "not_larger") return AspectPolicy::kNotLarger;
  if (m == "not_smaller") return AspectPolicy::kNotSmaller;
  return invalid_model("attribute 'keep_aspect_ratio_policy' is '" + m + "'; expected stretch, not_larger or "
                       "not_smaller");
}

Status parse_opset11_attrs(const NodeInfo& node, ResizeAttrs& a) {
  OM_ASSIGN_OR_RETURN(a.mode, parse_mode(node, true));
  OM_ASSIGN_OR_RETURN(a.coordinates, parse_coordinates(node));
  OM_ASSIGN_OR_RETURN(a.nearest, parse_nearest(node));
  OM_ASSIGN_OR_RETURN(a.cubic_a, node.attrs().get_float("cubic_coeff_a", -0.75f));
  OM_ASSIGN_OR_RETURN(int64_t exclude, node.attrs().get_int("exclude_outside", 0));
  OM_ASSIGN_OR_RETURN(a.extrapolation, node.attrs().get_float("extrapolation_value", 0.f));
  if (exclude != 0 && exclude != 1) return invalid_model("attribute 'exclude_outside' must be 0 or 1");
  a.exclude_outside = exclude == 1;
  if (node.since_version >= 18) {
    OM_ASSIGN_OR_RETURN(int64_t antialias, node.attrs().get_int("antialias", 0));
    if (antialias != 0 && antialias != 1) return invalid_model("attribute 'antialias' must be 0 or 1");
    a.antialias = antialias == 1;
    OM_ASSIGN_OR_RETURN(a.axes, node.attrs().get_ints("axes", {}));
    OM_ASSIGN_OR_RETURN(a.policy, parse_policy(node));
  }
  a.roi_input = 1;
  a.scales_input = 2;
  a.sizes_input = 3;
  return Status::ok();
}

}  // namespace

Result<ResizeAttrs> parse_resize_attrs(const NodeInfo& node) {
  ResizeAttrs a;
  if (node.op_type == "Resize" && node.since_version >= 11) {
    OM_RETURN_IF_ERROR(parse_opset11_attrs(node, a));
    return a;
  }
  // Upsample and Resize-10: nearest or linear on asymmetric coordinates.
  OM_ASSIGN_OR_RETURN(a.mode, parse_mode(node, false));
  a.coordinates = CoordinateMode::kAsymmetric;
  a.nearest = NearestMode::kLegacy;
  a.upsample = node.op_type == "Upsample";
  if (a.upsample && node.since_version < 9) {
    OM_ASSIGN_OR_RETURN(a.attr_scales, node.attrs().get_floats("scales", {}));
    if (!node.attrs().has("scales")) return invalid_model("attribute 'scales' is required");
    a.scales_input = -1;
  }
  return a;
}

namespace {

// Axes the scales / sizes / roi values apply to, in their order.
Result<int> resolve_axes(const ResizeAttrs& a, int rank, int (&axes)[kMaxResizeRank]) {
  if (a.axes.empty()) {
    for (int i = 0; i < rank; ++i) axes[i] = i;
    return rank;
  }
  if (a.axes.size() > static_cast<size_t>(rank)) return invalid_model("attribute 'axes' names more axes than the rank");
  bool seen[kMaxResizeRank] = {};
  for (size_t i = 0; i < a.axes.size(); ++i) {
    int64_t ax = a.axes[i];
    if (ax < -rank || ax >= rank) {
      return invalid_model("attribute 'axes' value " + std::to_string(ax) + " is out of range for rank " +
                           std::to_string(rank));
    }
    if (ax < 0) ax += rank;
    if (seen[ax]) return invalid_model("attribute 'axes' names axis " + std::to_string(ax) + " twice");
    seen[ax] = true;
    axes[i] = static_cast<int>(ax);
  }
  return static_cast<int>(a.axes.size());
}

bool present(const Tensor* t) { return t != nullptr && t->num_elements() > 0; }

Status read_roi(const Tensor* roi, int count, const int (&axes)[kMaxResizeRank], ResizeRequest& r) {
  for (int d = 0; d < r.rank; ++d) {
    r.roi_start[d] = 0.0;
    r.roi_end[d] = 1.0;
  }
  if (!present(roi)) return Status::ok();
  if (roi->dtype() != DataType::kFloat || roi->num_elements() != 2 * count) {
    return invalid_model("input 'roi' is " + describe(*roi) + "; expected " + std::to_string(2 * count) +
                         " floats (starts, then ends)");
  }
  for (int i = 0; i < count; ++i) {
    r.roi_start[axes[i]] = roi->data<float>()[i];
    r.roi_end[axes[i]] = roi->data<float>()[i + count];
  }
  return Status::ok();
}

Status from_scales(const ResizeAttrs& a, std::span<const float> scales, int count, const int (&axes)[kMaxResizeRank],
                   ResizeRequest& r) {
  if (static_cast<int>(scales.size()) != count) {
    return invalid_model("scales has " + std::to_string(scales.size()) + " values; expected " + std::to_string(count));
  }
  for (int i = 0; i < count; ++i) {
    const int d = axes[i];
    const double s = scales[static_cast<size_t>(i)];
    if (!(s > 0) || !std::isfinite(s) || (a.upsample && s < 1)) {
      return invalid_model("scales value " + std::to_string(scales[static_cast<size_t>(i)]) + " for axis " +
                           std::to_string(d) + " must be " + (a.upsample ? ">= 1" : "positive and finite"));
    }
    const double extent = a.coordinates == CoordinateMode::kTfCropAndResize ? r.roi_end[d] - r.roi_start[d] : 1.0;
    const double out = std::floor(static_cast<double>(r.in[d]) * extent * s);
    if (!(out >= 0) || out > static_cast<double>(kMaxTensorElements)) {
      return invalid_model("axis " + std::to_string(d) + ": size " + std::to_string(r.in[d]) + " scaled by " +
                           std::to_string(s) + " is out of range");
    }
    r.out[d] = static_cast<int64_t>(out);
    r.scale[d] = s;
  }
  return Status::ok();
}

Status from_sizes(const ResizeAttrs& a, const Tensor& sizes, int count, const int (&axes)[kMaxResizeRank],
                  ResizeRequest& r) {
  if (sizes.dtype() != DataType::kInt64 || sizes.num_elements() != count) {
    return invalid_model("input 'sizes' is " + describe(sizes) + "; expected " + std::to_string(count) + " int64");
  }
  for (int i = 0; i < count; ++i) {
    const int64_t v = sizes.data<int64_t>()[i];
    if (v < 0 || v > kMaxTensorElements) {
      return invalid_model("input 'sizes' value " + std::to_string(v) + " for axis " + std::to_string(axes[i]) +
                           " is out of range");
    }
    if (r.in[axes[i]] == 0 && v > 0) {
      return invalid_model("axis " + std::to_string(axes[i]) + " is empty: there is nothing to resize to " +
                           std::to_string(v));
    }
  }
  double common = a.policy == AspectPolicy::kNotLarger ? HUGE_VAL : 0.0;
  for (int i = 0; i < count; ++i) {
    const int d = axes[i];
    const double s = r.in[d] == 0 ? 1.0 : static_cast<double>(sizes.data<int64_t>()[i]) / static_cast<double>(r.in[d]);
    r.out[d] = sizes.data<int64_t>()[i];
    r.scale[d] = s;
    common = a.policy == AspectPolicy::kNotLarger ? std::min(common, s) : std::max(common, s);
  }
  if (a.policy == AspectPolicy::kStretch) return Status::ok();
  // One scale for every listed axis, the sizes rounded half up from it.
  for (int i = 0; i < count; ++i) {
    const int d = axes[i];
    r.scale[d] = common;
    r.out[d] = static_cast<int64_t>(std::floor(common * static_cast<double>(r.in[d]) + 0.5));
  }
  return Status::ok();
}

}  // namespace

Result<ResizeRequest> resize_request(const ResizeAttrs& a, std::span<const int64_t> in_shape, const Tensor* scales,
                                     const Tensor* sizes, const Tensor* roi) {
  if (in_shape.size() > static_cast<size_t>(kMaxResizeRank)) {
    return unsupported("input 'X' has rank " + std::to_string(in_shape.size()) + "; Resize runs up to rank " +
                       std::to_string(kMaxResizeRank));
  }
  ResizeRequest r;
  r.rank = static_cast<int>(in_shape.size());
  for (int d = 0; d < r.rank; ++d) {
    r.in[d] = r.out[d] = in_shape[static_cast<size_t>(d)];
    r.scale[d] = 1.0;
  }
  int axes[kMaxResizeRank] = {};
  OM_ASSIGN_OR_RETURN(int count, resolve_axes(a, r.rank, axes));
  OM_RETURN_IF_ERROR(read_roi(a.coordinates == CoordinateMode::kTfCropAndResize ? roi : nullptr, count, axes, r));
  if (a.scales_input < 0) {  // Upsample-7: scales attribute
    OM_RETURN_IF_ERROR(from_scales(a, a.attr_scales, count, axes, r));
    return r;
  }
  if (present(scales) && present(sizes)) return invalid_model("both 'scales' and 'sizes' are given; expected one");
  if (present(sizes)) {
    OM_RETURN_IF_ERROR(from_sizes(a, *sizes, count, axes, r));
    return r;
  }
  if (!present(scales)) return invalid_model("neither 'scales' nor 'sizes' is given");
  if (scales->dtype() != DataType::kFloat) return invalid_model("input 'scales' is " + describe(*scales) + "; expected float");
  OM_RETURN_IF_ERROR(from_scales(a, {scales->data<float>(), static_cast<size_t>(scales->num_elements())}, count, axes, r));
  return r;
}

// ---- per-axis tables ----------------------------------------------------

namespace {

// x_original for output position o (the specification's formulas).
double source_coordinate(const ResizeAttrs& a, const ResizeRequest& r, int d, int64_t o) {
  const double in = static_cast<double>(r.in[d]), out = static_cast<double>(r.out[d]), s = r.scale[d];
  const double x = static_cast<double>(o);
  switch (a.coordinates) {
    case CoordinateMode::kHalfPixel: return (x + 0.5) / s - 0.5;
    case CoordinateMode::kHalfPixelSymmetric: {
      // The centre of the input maps to the centre of the output even when
      // the output length was rounded down from in * scale.
      const double adjustment = out / (s * in);
      return in / 2 * (1 - adjustment) + (x + 0.5) / s - 0.5;
    }
    case CoordinateMode::kPytorchHalfPixel: return r.out[d] > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case CoordinateMode::kAlignCorners: return r.out[d] > 1 ? x * (in - 1) / (out - 1) : 0.0;
    case CoordinateMode::kAsymmetric: return x / s;
    case CoordinateMode::kTfHalfPixelForNn: return (x + 0.5) / s;
    case CoordinateMode::kTfCropAndResize: {
      const double start = r.roi_start[d], end = r.roi_end[d];
      return r.out[d] > 1 ? start * (in - 1) + x * (end - start) * (in - 1) / (out - 1)
                          : 0.5 * (start + end) * (in - 1);
    }
  }
  return x;
}

int64_t nearest_index(NearestMode m, double x, double scale) {
  const double fl = std::floor(x), frac = x - fl;
  switch (m) {
    case NearestMode::kRoundPreferFloor: return static_cast<int64_t>(frac <= 0.5 ? fl : fl + 1);
    case NearestMode::kRoundPreferCeil: return static_cast<int64_t>(frac < 0.5 ? fl : fl + 1);
    case NearestMode::kFloor: return static_cast<int64_t>(fl);
    case NearestMode::kCeil: return static_cast<int64_t>(std::ceil(x));
    case NearestMode::kLegacy: return static_cast<int64_t>(scale < 1 ? std::ceil(x) : fl);
  }
  return static_cast<int64_t>(fl);
}

double cubic_kernel(double t, double a) {
  t = std::abs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0.0;
}

// First tap offset and tap count: 2 (linear) or 4 (cubic) taps, widened by
// 1 / scale when antialiasing a shrink.
std::pair<int64_t, int> tap_span(const ResizeAttrs& a, double filter_scale) {
  const double support = a.mode == ResizeMode::kCubic ? 2.0 : 1.0;
  const int64_t start = static_cast<int64_t>(std::floor(-support / filter_scale)) + 1;
  return {start, static_cast<int>(2 - 2 * start)};
}

void mark_identity(AxisTable& t) {
  if (t.in != t.out || t.any_outside) return;
  for (int64_t o = 0; o < t.out; ++o) {
    for (int k = 0; k < t.taps; ++k) {
      const size_t i = static_cast<size_t>(o * t.taps + k);
      const bool self = t.index[i] == o;
      if ((self && t.weight[i] != 1.f) || (!self && t.weight[i] != 0.f)) return;
    }
  }
  t.identity = true;
  t.taps = 1;
  for (int64_t o = 0; o < t.out; ++o) {
    t.index[static_cast<size_t>(o)] = o;
    t.weight[static_cast<size_t>(o)] = 1.f;
  }
  t.index.resize(static_cast<size_t>(t.out));
  t.weight.resize(static_cast<size_t>(t.out));
}

}  // namespace

AxisTable build_axis_table(const ResizeAttrs& a, const ResizeRequest& r, int d) {
  AxisTable t;
  t.in = r.in[d];
  t.out = r.out[d];
  const double filter_scale = a.antialias ? std::min(r.scale[d], 1.0) : 1.0;
  const auto [start, taps] = a.mode == ResizeMode::kNearest ? std::pair<int64_t, int>{0, 1} : tap_span(a, filter_scale);
  t.taps = taps;
  t.index.assign(static_cast<size_t>(t.out * taps), 0);
  t.weight.assign(static_cast<size_t>(t.out * taps), 0.f);
  t.outside.assign(static_cast<size_t>(t.out), 0);
  std::vector<double> w(static_cast<size_t>(taps));
  for (int64_t o = 0; o < t.out; ++o) {
    const double x = source_coordinate(a, r, d, o);
    if (a.coordinates == CoordinateMode::kTfCropAndResize && (x < 0 || x > static_cast<double>(t.in - 1))) {
      t.outside[static_cast<size_t>(o)] = 1;
      t.any_outside = true;
      continue;
    }
    const size_t at = static_cast<size_t>(o * taps);
    if (a.mode == ResizeMode::kNearest) {
      t.index[at] = std::clamp<int64_t>(nearest_index(a.nearest, x, r.scale[d]), 0, t.in - 1);
      t.weight[at] = 1.f;
      continue;
    }
    // Base index b and ratio in (0, 1]: an integer x reads x - 1 with ratio 1,
    // as the specification's reference does (the weights then select x).
    double base = std::floor(x), ratio = x - base;
    if (ratio == 0) {
      base -= 1;
      ratio = 1;
    }
    double sum = 0;
    for (int k = 0; k < taps; ++k) {
      const double dist = filter_scale * (static_cast<double>(start + k) - ratio);
      w[k] = a.mode == ResizeMode::kCubic ? cubic_kernel(dist, a.cubic_a) : std::max(0.0, 1 - std::abs(dist));
      const int64_t src = static_cast<int64_t>(base) + start + k;
      if (a.exclude_outside && (src < 0 || src >= t.in)) w[k] = 0;
      sum += w[k];
    }
    const bool normalize = a.antialias || a.exclude_outside;
    for (int k = 0; k < taps; ++k) {
      t.index[at + k] = std::clamp<int64_t>(static_cast<int64_t>(base) + start + k, 0, t.in - 1);
      t.weight[at + k] = static_cast<float>(normalize && sum != 0 ? w[k] / sum : w[k]);
    }
  }
  mark_identity(t);
  return t;
}

}  // namespace onnx_mini
