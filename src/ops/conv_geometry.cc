#include "ops/conv_geometry.h"

#include <algorithm>
#include <optional>

#include "core/shape.h"
#include "ops/numeric.h"

namespace onnx_mini {
namespace {

Status check_all(const std::vector<int64_t>& v, int64_t min, const char* name) {
  for (int64_t x : v) {
    if (x < min) {
      return invalid_model(std::string("attribute '") + name + "' " + shape_to_string(v) + " must hold values >= " +
                           std::to_string(min));
    }
  }
  return Status::ok();
}

Status check_length(const std::vector<int64_t>& v, size_t want, const char* name, int spatial) {
  if (v.empty() || v.size() == want) return Status::ok();
  return invalid_model(std::string("attribute '") + name + "' " + shape_to_string(v) + " has " +
                       std::to_string(v.size()) + " values, expected " + std::to_string(want) + " for " +
                       std::to_string(spatial) + " spatial dimension(s)");
}

// The attribute lists against the number of spatial dims (known once X or W has a rank).
Status check_lengths(const ConvAttributes& a, int spatial) {
  const size_t n = static_cast<size_t>(spatial);
  OM_RETURN_IF_ERROR(check_length(a.kernel_shape, n, "kernel_shape", spatial));
  OM_RETURN_IF_ERROR(check_length(a.strides, n, "strides", spatial));
  OM_RETURN_IF_ERROR(check_length(a.dilations, n, "dilations", spatial));
  OM_RETURN_IF_ERROR(check_length(a.pads, 2 * n, "pads", spatial));
  OM_RETURN_IF_ERROR(check_length(a.output_padding, n, "output_padding", spatial));
  // output_shape: the spatial sizes, or (as ONNX Runtime also accepts) the whole [N, M, spatial...].
  if (!a.output_shape.empty() && a.output_shape.size() != n && a.output_shape.size() != n + 2) {
    return check_length(a.output_shape, n, "output_shape", spatial);
  }
  return Status::ok();
}

int64_t at_or(const std::vector<int64_t>& v, size_t i, int64_t fallback) { return v.empty() ? fallback : v[i]; }

// One spatial axis: the attributes' values for it.
struct AxisAttrs {
  int64_t stride, dilation, pad_begin, pad_end, output_padding;
  std::optional<int64_t> output_size;  // ConvTranspose output_shape
};

AxisAttrs axis_attrs(const ConvAttributes& a, int spatial, int i) {
  const size_t s = static_cast<size_t>(spatial), k = static_cast<size_t>(i);
  AxisAttrs ax{at_or(a.strides, k, 1), at_or(a.dilations, k, 1), at_or(a.pads, k, 0), at_or(a.pads, k + s, 0),
               at_or(a.output_padding, k, 0), std::nullopt};
  if (!a.output_shape.empty()) ax.output_size = a.output_shape[a.output_shape.size() - s + k];
  return ax;
}

struct AxisResult {
  int64_t out, pad_begin, pad_end;
};

std::string axis_name(int i) { return "spatial axis " + std::to_string(i); }

Result<AxisResult> conv_axis(const ConvAttributes& a, const AxisAttrs& ax, int i, int64_t in, int64_t k) {
  const int64_t dk = (k - 1) * ax.dilation + 1;
  auto kernel_text = [&] {  // built on the error paths only
    return "kernel " + std::to_string(k) + (ax.dilation > 1 ? " (dilated " + std::to_string(dk) + ")" : "");
  };
  switch (a.auto_pad) {
    case AutoPad::kSameUpper:
    case AutoPad::kSameLower: {
      const int64_t out = (in + ax.stride - 1) / ax.stride;
      const int64_t total = std::max<int64_t>(0, (out - 1) * ax.stride + dk - in);
      const int64_t small = total / 2;
      if (a.auto_pad == AutoPad::kSameUpper) return AxisResult{out, small, total - small};
      return AxisResult{out, total - small, small};
    }
    case AutoPad::kValid:
      if (in < dk) {
        return invalid_model(kernel_text() + " is larger than the input " + std::to_string(in) + " along " +
                             axis_name(i) + " (auto_pad VALID: no padding)");
      }
      return AxisResult{(in - dk) / ax.stride + 1, 0, 0};
    case AutoPad::kNotSet: break;
  }
  const int64_t padded = in + ax.pad_begin + ax.pad_end;
  if (padded < dk) {
    return invalid_model(kernel_text() + " is larger than the padded input " + std::to_string(padded) + " (input " +
                         std::to_string(in) + " + pads " + std::to_string(ax.pad_begin) + " + " +
                         std::to_string(ax.pad_end) + ") along " + axis_name(i));
  }
  return AxisResult{(padded - dk) / ax.stride + 1, ax.pad_begin, ax.pad_end};
}

Result<AxisResult> conv_transpose_axis(const ConvAttributes& a, const AxisAttrs& ax, int i, int64_t in, int64_t k) {
  if (in < 1) return invalid_model("ConvTranspose input is empty along " + axis_name(i));
  const int64_t full = ax.stride * (in - 1) + (k - 1) * ax.dilation + 1;
  std::optional<int64_t> out = ax.output_size;
  if (!out && (a.auto_pad == AutoPad::kSameUpper || a.auto_pad == AutoPad::kSameLower)) out = in * ax.stride;
  if (out) {
    if (*out < 1) return invalid_model("output_shape " + shape_to_string(a.output_shape) + " must be positive");
    const int64_t total = full + ax.output_padding - *out;
    const int64_t half = floor_div(total, 2);
    if (a.auto_pad == AutoPad::kSameUpper) return AxisResult{*out, half, total - half};
    return AxisResult{*out, total - half, half};
  }
  const int64_t pb = a.auto_pad == AutoPad::kValid ? 0 : ax.pad_begin;
  const int64_t pe = a.auto_pad == AutoPad::kValid ? 0 : ax.pad_end;
  const int64_t size = full + ax.output_padding - pb - pe;
  if (size < 1) {
    return invalid_model("output size " + std::to_string(size) + " along " + axis_name(i) + " is not positive: stride " +
                         std::to_string(ax.stride) + " * (input " + std::to_string(in) + " - 1) + dilated kernel " +
                         std::to_string(full - ax.stride * (in - 1)) + " + output_padding " +
                         std::to_string(ax.output_padding) + " - pads " + std::to_string(pb) + " - " +
                         std::to_string(pe));
  }
  return AxisResult{size, pb, pe};
}

Result<AxisResult> resolve_axis(const ConvAttributes& a, int spatial, int i, int64_t in, int64_t k) {
  const AxisAttrs ax = axis_attrs(a, spatial, i);
  return a.transpose ? conv_transpose_axis(a, ax, i, in, k) : conv_axis(a, ax, i, in, k);
}

// Optional dims of X and W as the geometry needs them (-1: unknown).
struct KnownDims {
  int64_t batch = -1, channels = -1, w0 = -1, w1 = -1;
  ConvGeometry::Dims in{-1, -1, -1}, kernel{-1, -1, -1};  // per spatial axis (no allocation per run)
};

// The channel rules: C divides by group, and W's channel dim matches.
Status check_channels(const ConvAttributes& a, const KnownDims& d) {
  const int64_t g = a.group;
  if (d.channels >= 0 && d.channels % g != 0) {
    return invalid_model("input channels " + std::to_string(d.channels) + " do not divide by group " + std::to_string(g));
  }
  if (a.transpose) {
    if (d.channels >= 0 && d.w0 >= 0 && d.w0 != d.channels) {
      return invalid_model("weight W has " + std::to_string(d.w0) + " input channels (dim 0) but X has " +
                           std::to_string(d.channels));
    }
    return Status::ok();
  }
  if (d.w0 >= 0 && d.w0 % g != 0) {
    return invalid_model("output channels " + std::to_string(d.w0) + " (W dim 0) do not divide by group " +
                         std::to_string(g));
  }
  if (d.channels >= 0 && d.w1 >= 0 && d.w1 * g != d.channels) {
    return invalid_model("weight W has " + std::to_string(d.w1) + " channels per group (dim 1) but X has " +
                         std::to_string(d.channels) + " channels in " + std::to_string(g) + " group(s)" +
                         (g == 1 ? "" : ", " + std::to_string(d.channels / std::max<int64_t>(g, 1)) + " per group"));
  }
  return Status::ok();
}

Result<int64_t> kernel_dim(const ConvAttributes& a, const KnownDims& d, int i) {
  const size_t k = static_cast<size_t>(i);
  if (!a.kernel_shape.empty()) {
    if (d.kernel[k] >= 0 && d.kernel[k] != a.kernel_shape[k]) {
      return invalid_model("attribute 'kernel_shape' " + shape_to_string(a.kernel_shape) +
                           " disagrees with the weight's spatial size " + std::to_string(d.kernel[k]) + " along " +
                           axis_name(i));
    }
    return a.kernel_shape[k];
  }
  return d.kernel[k];
}

Status check_rank(int64_t x_rank, int64_t w_rank) {
  if (x_rank >= 0 && x_rank < 3) return invalid_model("input X must have rank >= 3 ([N, C, spatial...]), got rank " + std::to_string(x_rank));
  if (w_rank >= 0 && w_rank < 3) return invalid_model("weight W must have rank >= 3, got rank " + std::to_string(w_rank));
  if (x_rank >= 0 && w_rank >= 0 && x_rank != w_rank) {
    return invalid_model("input X has rank " + std::to_string(x_rank) + " but weight W has rank " + std::to_string(w_rank));
  }
  const int64_t rank = std::max(x_rank, w_rank);
  if (rank - 2 > kMaxConvSpatial) {
    return unsupported(std::to_string(rank - 2) + " spatial dimensions (onnx-mini runs 1-D, 2-D and 3-D convolutions)");
  }
  return Status::ok();
}

}  // namespace

Result<ConvAttributes> ConvAttributes::parse(const Attributes& attrs, bool transpose) {
  ConvAttributes a;
  a.transpose = transpose;
  OM_ASSIGN_OR_RETURN(std::string auto_pad, attrs.get_string("auto_pad", "NOTSET"));
  OM_ASSIGN_OR_RETURN(a.auto_pad, parse_auto_pad(auto_pad));
  OM_ASSIGN_OR_RETURN(a.group, attrs.get_int("group", 1));
  OM_ASSIGN_OR_RETURN(a.kernel_shape, attrs.get_ints("kernel_shape"));
  OM_ASSIGN_OR_RETURN(a.strides, attrs.get_ints("strides"));
  OM_ASSIGN_OR_RETURN(a.dilations, attrs.get_ints("dilations"));
  OM_ASSIGN_OR_RETURN(a.pads, attrs.get_ints("pads"));
  if (transpose) {
    OM_ASSIGN_OR_RETURN(a.output_padding, attrs.get_ints("output_padding"));
    OM_ASSIGN_OR_RETURN(a.output_shape, attrs.get_ints("output_shape"));
  }
  if (a.group < 1) return invalid_model("attribute 'group' must be >= 1, got " + std::to_string(a.group));
  OM_RETURN_IF_ERROR(check_all(a.kernel_shape, 1, "kernel_shape"));
  OM_RETURN_IF_ERROR(check_all(a.strides, 1, "strides"));
  OM_RETURN_IF_ERROR(check_all(a.dilations, 1, "dilations"));
  OM_RETURN_IF_ERROR(check_all(a.pads, 0, "pads"));
  OM_RETURN_IF_ERROR(check_all(a.output_padding, 0, "output_padding"));
  // The spec forbids pads together with auto_pad; zeros say nothing and are accepted.
  if (a.auto_pad != AutoPad::kNotSet && std::any_of(a.pads.begin(), a.pads.end(), [](int64_t p) { return p != 0; })) {
    return invalid_model("attribute 'pads' " + shape_to_string(a.pads) + " cannot be used with auto_pad " + auto_pad);
  }
  return a;
}

bool ConvGeometry::is_pointwise() const {
  for (int i = 0; i < kMaxConvSpatial; ++i) {
    if (kernel[i] != 1 || stride[i] != 1 || pad_begin[i] != 0 || pad_end[i] != 0) return false;
  }
  return true;
}

std::array<int64_t, kMaxConvSpatial + 2> ConvGeometry::output_dims() const {
  std::array<int64_t, kMaxConvSpatial + 2> dims{batch, out_channels, 0, 0, 0};
  for (int i = 0; i < spatial; ++i) dims[static_cast<size_t>(i) + 2] = out[slot(spatial, i)];
  return dims;
}

namespace {

Result<ConvGeometry> geometry(const ConvAttributes& a, const Shape& x, const Shape& w) {
  OM_RETURN_IF_ERROR(check_rank(static_cast<int64_t>(x.size()), static_cast<int64_t>(w.size())));
  const int spatial = static_cast<int>(x.size()) - 2;
  OM_RETURN_IF_ERROR(check_lengths(a, spatial));
  KnownDims d{x[0], x[1], w[0], w[1], {}, {}};
  for (int i = 0; i < spatial; ++i) {
    d.in[static_cast<size_t>(i)] = x[static_cast<size_t>(i) + 2];
    d.kernel[static_cast<size_t>(i)] = w[static_cast<size_t>(i) + 2];
  }
  OM_RETURN_IF_ERROR(check_channels(a, d));
  ConvGeometry g;
  g.spatial = spatial;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = a.transpose ? w[1] * a.group : w[0];
  g.group = a.group;
  for (int i = 0; i < spatial; ++i) {
    const int s = ConvGeometry::slot(spatial, i);
    OM_ASSIGN_OR_RETURN(g.kernel[s], kernel_dim(a, d, i));
    if (g.kernel[s] < 1) return invalid_model("weight W is empty along " + axis_name(i));
    const AxisAttrs ax = axis_attrs(a, spatial, i);
    g.in[s] = d.in[static_cast<size_t>(i)];
    g.stride[s] = ax.stride;
    g.dilation[s] = ax.dilation;
    OM_ASSIGN_OR_RETURN(AxisResult r, resolve_axis(a, spatial, i, g.in[s], g.kernel[s]));
    g.out[s] = r.out;
    g.pad_begin[s] = r.pad_begin;
    g.pad_end[s] = r.pad_end;
  }
  return g;
}

}  // namespace

Result<ConvGeometry> conv_geometry(const ConvAttributes& attrs, const Shape& x, const Shape& w) {
  return geometry(attrs, x, w);
}

Status infer_conv_output(const ConvAttributes& a, const TensorInfo& x, const TensorInfo& w, const TensorInfo* b,
                         TensorInfo& y) {
  y.dtype = x.dtype;
  const int64_t x_rank = x.has_shape ? static_cast<int64_t>(x.dims.size()) : -1;
  const int64_t w_rank = w.has_shape ? static_cast<int64_t>(w.dims.size()) : -1;
  OM_RETURN_IF_ERROR(check_rank(x_rank, w_rank));
  const int64_t rank = std::max(x_rank, w_rank);
  if (rank < 0) return Status::ok();
  const int spatial = static_cast<int>(rank) - 2;
  OM_RETURN_IF_ERROR(check_lengths(a, spatial));
  auto dim = [](const TensorInfo& t, size_t i) { return t.has_shape && t.dims[i].known() ? t.dims[i].value : -1; };
  KnownDims d{dim(x, 0), dim(x, 1), dim(w, 0), dim(w, 1), {}, {}};
  for (int i = 0; i < spatial; ++i) {
    d.in[static_cast<size_t>(i)] = dim(x, static_cast<size_t>(i) + 2);
    d.kernel[static_cast<size_t>(i)] = dim(w, static_cast<size_t>(i) + 2);
  }
  OM_RETURN_IF_ERROR(check_channels(a, d));
  const int64_t out_channels = a.transpose ? (d.w1 >= 0 ? d.w1 * a.group : -1) : d.w0;
  if (b && b->has_shape) {
    if (b->dims.size() != 1) return invalid_model("bias B must be 1-D [M], got " + b->to_string());
    if (out_channels >= 0 && b->dims[0].known() && b->dims[0].value != out_channels) {
      return invalid_model("bias B " + b->to_string() + " does not match the " + std::to_string(out_channels) +
                           " output channels");
    }
  }
  y.has_shape = true;
  y.dims.assign(static_cast<size_t>(rank), Dim{});
  if (x.has_shape) y.dims[0] = x.dims[0];  // the batch, symbolic or not
  if (out_channels >= 0) y.dims[1].value = out_channels;
  for (int i = 0; i < spatial; ++i) {
    const size_t k = static_cast<size_t>(i);
    OM_ASSIGN_OR_RETURN(int64_t kernel, kernel_dim(a, d, i));
    if (kernel == 0) return invalid_model("weight W is empty along " + axis_name(i));
    if (a.transpose && !a.output_shape.empty()) {
      y.dims[k + 2].value = a.output_shape[a.output_shape.size() - static_cast<size_t>(spatial) + k];
    }
    if (kernel < 0 || d.in[k] < 0) continue;
    OM_ASSIGN_OR_RETURN(AxisResult r, resolve_axis(a, spatial, i, d.in[k], kernel));
    y.dims[k + 2].value = r.out;
  }
  return Status::ok();
}

}  // namespace onnx_mini
