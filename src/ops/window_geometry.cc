#include "ops/window_geometry.h"

#include <algorithm>

#include "core/shape.h"
#include "ops/numeric.h"

namespace onnx_mini {
namespace {

// An int list attribute of `count` entries, each in [min, kMaxTensorElements]
// (larger values cannot describe a window over a tensor that fits in memory,
// and the bound keeps the size arithmetic below far from int64 overflow).
Result<std::vector<int64_t>> read_list(const Attributes& attrs, const std::string& name, size_t count, int64_t min,
                                       int64_t fill) {
  OM_ASSIGN_OR_RETURN(std::vector<int64_t> v, attrs.get_ints(name, std::vector<int64_t>(count, fill)));
  if (v.size() != count) {
    return invalid_model("attribute '" + name + "' " + shape_to_string(v) + " has " + std::to_string(v.size()) +
                         " entries, expected " + std::to_string(count) + " (kernel_shape has " +
                         std::to_string(count / (name == "pads" ? 2 : 1)) + ")");
  }
  for (int64_t x : v) {
    if (x < min || x > kMaxTensorElements) {
      return invalid_model("attribute '" + name + "' " + shape_to_string(v) + ": " + std::to_string(x) +
                           (x < min ? " is below " + std::to_string(min) : " is out of range"));
    }
  }
  return v;
}

}  // namespace

Result<AutoPad> parse_auto_pad(const std::string& s) {
  if (s == "NOTSET") return AutoPad::kNotSet;
  if (s == "SAME_UPPER") return AutoPad::kSameUpper;
  if (s == "SAME_LOWER") return AutoPad::kSameLower;
  if (s == "VALID") return AutoPad::kValid;
  return invalid_model("attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '" + s + "'");
}

int64_t AxisWindow::taps_within(int64_t o, int64_t lo, int64_t hi) const {
  const int64_t s = start(o);
  if (hi - 1 < s) return 0;
  const int64_t first = lo > s ? (lo - s + dilation - 1) / dilation : 0;
  const int64_t last = std::min(kernel - 1, (hi - 1 - s) / dilation);
  return std::max<int64_t>(0, last - first + 1);
}

int64_t AxisWindow::interior_begin() const { return std::min(out, (pad_begin + stride - 1) / stride); }

int64_t AxisWindow::interior_end() const {
  const int64_t room = in + pad_begin - extent();  // start(o) + extent <= in  <=>  o * stride <= room
  const int64_t end = room < 0 ? 0 : std::min(out, room / stride + 1);
  return std::max(end, interior_begin());
}

Result<WindowAttributes> WindowAttributes::parse(const Attributes& attrs) {
  WindowAttributes w;
  OM_ASSIGN_OR_RETURN(w.kernel_, attrs.require_ints("kernel_shape"));
  const size_t rank = w.kernel_.size();
  if (rank == 0 || rank > static_cast<size_t>(kMaxSpatialRank)) {
    return unsupported("attribute 'kernel_shape' has " + std::to_string(rank) + " spatial axes; onnx-mini runs 1 to " +
                       std::to_string(kMaxSpatialRank));
  }
  OM_ASSIGN_OR_RETURN(w.kernel_, read_list(attrs, "kernel_shape", rank, 1, 1));
  OM_ASSIGN_OR_RETURN(w.strides_, read_list(attrs, "strides", rank, 1, 1));
  OM_ASSIGN_OR_RETURN(w.dilations_, read_list(attrs, "dilations", rank, 1, 1));
  OM_ASSIGN_OR_RETURN(w.pads_, read_list(attrs, "pads", 2 * rank, 0, 0));
  OM_ASSIGN_OR_RETURN(std::string auto_pad, attrs.get_string("auto_pad", "NOTSET"));
  OM_ASSIGN_OR_RETURN(w.auto_pad_, parse_auto_pad(auto_pad));
  OM_ASSIGN_OR_RETURN(int64_t ceil_mode, attrs.get_int("ceil_mode", 0));
  if (ceil_mode != 0 && ceil_mode != 1) {
    return invalid_model("attribute 'ceil_mode' is " + std::to_string(ceil_mode) + ", expected 0 or 1");
  }
  w.ceil_mode_ = ceil_mode == 1;
  const bool any_pad = std::any_of(w.pads_.begin(), w.pads_.end(), [](int64_t p) { return p != 0; });
  if (w.auto_pad_ != AutoPad::kNotSet && any_pad) {
    return invalid_model("attribute 'pads' " + shape_to_string(w.pads_) + " given with auto_pad '" + auto_pad +
                         "': the two cannot be used together");
  }
  return w;
}

Result<AxisWindow> WindowAttributes::axis(int i, int64_t in) const {
  const size_t a = static_cast<size_t>(i);
  AxisWindow w;
  w.in = in;
  w.kernel = kernel_[a];
  w.stride = strides_[a];
  w.dilation = dilations_[a];
  const auto extent = checked_mul(w.dilation, w.kernel - 1);
  if (!extent || *extent >= kMaxTensorElements) {
    return invalid_model("spatial axis " + std::to_string(i) + ": kernel " + std::to_string(w.kernel) +
                         " with dilation " + std::to_string(w.dilation) + " spans more than any tensor");
  }
  if (auto_pad_ == AutoPad::kSameUpper || auto_pad_ == AutoPad::kSameLower) {
    w.out = (in + w.stride - 1) / w.stride;
    const int64_t total = std::max<int64_t>(0, (w.out - 1) * w.stride + w.extent() - in);
    w.pad_begin = auto_pad_ == AutoPad::kSameUpper ? total / 2 : total - total / 2;
    w.pad_end = total - w.pad_begin;
    return w;
  }
  if (auto_pad_ == AutoPad::kNotSet) {
    w.pad_begin = pads_[a];
    w.pad_end = pads_[a + kernel_.size()];
  }
  const int64_t room = in + w.pad_begin + w.pad_end - w.extent();
  if (room < 0) {
    return invalid_model("spatial axis " + std::to_string(i) + ": kernel " + std::to_string(w.kernel) +
                         (w.dilation > 1 ? " (dilation " + std::to_string(w.dilation) + ": extent " +
                                               std::to_string(w.extent()) + ")"
                                         : "") +
                         " is larger than the padded input " + std::to_string(in) + " + " +
                         std::to_string(w.pad_begin) + " + " + std::to_string(w.pad_end) + " = " +
                         std::to_string(in + w.pad_begin + w.pad_end));
  }
  w.out = ceil_mode_ ? floor_div(room + w.stride - 1, w.stride) + 1 : room / w.stride + 1;
  if (ceil_mode_ && (w.out - 1) * w.stride >= in + w.pad_begin) --w.out;
  return w;
}

Result<WindowGeometry> WindowAttributes::geometry(std::span<const int64_t> in) const {
  if (in.size() != kernel_.size()) {
    return bad_input("input has " + std::to_string(in.size()) + " spatial dims but kernel_shape " +
                     shape_to_string(kernel_) + " has " + std::to_string(kernel_.size()));
  }
  WindowGeometry g;
  g.rank = rank();
  for (int i = 0; i < g.rank; ++i) {
    OM_ASSIGN_OR_RETURN(g.axes[static_cast<size_t>(i)], axis(i, in[static_cast<size_t>(i)]));
  }
  return g;
}

Status check_no_padding_only_window(const AxisWindow& w, int axis) {
  for (int64_t o = 0; o < w.out; ++o) {
    if (w.input_taps(o) == 0) {
      return invalid_model("spatial axis " + std::to_string(axis) + ": output " + std::to_string(o) +
                           " pools padding only (input " + std::to_string(w.in) + ", pads " +
                           std::to_string(w.pad_begin) + " + " + std::to_string(w.pad_end) + ", kernel " +
                           std::to_string(w.kernel) + ", stride " + std::to_string(w.stride) + ", dilation " +
                           std::to_string(w.dilation) + "); its maximum or average is undefined");
    }
  }
  return Status::ok();
}

Status check_no_padding_only_window(const WindowGeometry& g) {
  for (int i = 0; i < g.rank; ++i) OM_RETURN_IF_ERROR(check_no_padding_only_window(g.axes[static_cast<size_t>(i)], i));
  return Status::ok();
}

}  // namespace onnx_mini
