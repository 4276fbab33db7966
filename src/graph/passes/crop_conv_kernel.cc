// CropConvKernel: a Conv (or FusedConv) with a constant weight whose kernel
// overhangs its input on every output pixel keeps only the kernel rows and
// columns that some output pixel reads inside the input; the others multiply
// padding alone. A 3x3 kernel with padding 1 on a 1x1 input (ResNet-18's last
// stage on a 32x32 image) becomes 1x1, a stride-2 3x3 on a 2x2 input 2x2:
// what a kernel that skips padded taps (ONNX Runtime's NCHWc ones) never reads,
// taken out of the weight once, so every kernel path streams 1/9 (4/9) of it.
//
// Per spatial axis (input size `in`, kernel k, stride s, dilation d, pads pb
// and pe, `out` outputs), kernel position j is read for output o at input
// o * s - pb + j * d; [lo, hi] are the first and last j inside [0, in) for some
// o. The cropped node has kernel hi - lo + 1, pads pb - lo * d before and as
// many after as keep `out` outputs; each output reads the same inputs at the
// same kept positions.
//
// The dropped products are 0 x w. With every dropped weight finite they are
// zeros (0 x Inf would be NaN: such a weight stops the crop), so the sums lose
// nothing but, where every kept product is -0 too, the sign of a zero sum.
// Needs the input's spatial sizes at load (the session rejects other sizes
// when they are declared). SAME_UPPER and SAME_LOWER padding is made explicit
// first (VALID has none, so nothing overhangs).
#include <algorithm>
#include <cmath>

#include "graph/passes/conv_patterns.h"
#include "graph/passes/expand_fused_ops.h"
#include "graph/passes/fusion.h"
#include "graph/passes/pass_manager.h"
#include "graph/passes/pattern_pass.h"

namespace onnx_mini {
namespace {

// One spatial axis of the convolution, before and after the crop.
struct AxisCrop {
  int64_t lo = 0, kernel = 0, pad_begin = 0, pad_end = 0;
};

// Sizes, strides, dilations and pads beyond this are left alone, so that no
// product below can overflow (a model is untrusted; no real convolution
// comes near).
constexpr int64_t kMaxAxisValue = int64_t{1} << 24;

// Output size of an axis, as Conv's shape inference computes it.
int64_t outputs_of(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
  const int64_t span = in + pb + pe - d * (k - 1) - 1;
  return span < 0 ? 0 : span / s + 1;
}

// The kept range of one axis, or nullopt when none can be taken (no output, no
// kernel position inside the input, or a crop that would need a negative pad).
std::optional<AxisCrop> crop_axis(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
  const int64_t out = outputs_of(in, k, s, d, pb, pe);
  if (out <= 0) return std::nullopt;
  int64_t lo = -1, hi = -1;
  for (int64_t j = 0; j < k; ++j) {
    // The outputs reading position j inside the input: o with 0 <= o * s - pb + j * d < in.
    const int64_t first = j * d - pb >= 0 ? 0 : (pb - j * d + s - 1) / s;
    if (first < out && first * s - pb + j * d < in) {
      if (lo < 0) lo = j;
      hi = j;
    }
  }
  if (lo < 0) return std::nullopt;
  AxisCrop c;
  c.lo = lo;
  c.kernel = hi - lo + 1;
  c.pad_begin = pb - lo * d;
  if (c.pad_begin < 0) return std::nullopt;
  c.pad_end = std::max<int64_t>(0, (out - 1) * s + d * (c.kernel - 1) + 1 - in - c.pad_begin);
  if (outputs_of(in, c.kernel, s, d, c.pad_begin, c.pad_end) != out) return std::nullopt;
  return c;
}

std::string dims_text(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(v[i]);
  }
  return s;
}

struct CropConvKernel {
  static constexpr const char* kName = "CropConvKernel";
  struct Match {
    NodeId conv;
    std::vector<AxisCrop> axes;
  };

  std::optional<Match> match(const Graph& g, NodeId id) const {
    const Node& n = g.node(id);
    if (!is_float_conv(g, n) || n.inputs.size() < 2) return std::nullopt;
    const Tensor* w = n.inputs[1] == kNoId ? nullptr : g.constant_value(n.inputs[1]);
    if (!w || w->dtype() != DataType::kFloat || w->rank() < 3 || w->num_elements() == 0) return std::nullopt;
    const size_t r = static_cast<size_t>(w->rank() - 2);
    const TensorInfo& x = g.value(n.inputs[0]).info;
    if (!x.has_shape || x.dims.size() != r + 2) return std::nullopt;
    auto auto_pad = n.attrs.get_string("auto_pad", "NOTSET");
    auto kernel = n.attrs.get_ints("kernel_shape");
    auto strides = n.attrs.get_ints("strides", std::vector<int64_t>(r, 1));
    auto dilations = n.attrs.get_ints("dilations", std::vector<int64_t>(r, 1));
    auto pads = n.attrs.get_ints("pads", std::vector<int64_t>(2 * r, 0));
    if (!auto_pad.is_ok() || !kernel.is_ok() || !strides.is_ok() || !dilations.is_ok() || !pads.is_ok() ||
        strides.value().size() != r || dilations.value().size() != r || pads.value().size() != 2 * r) {
      return std::nullopt;  // anything else is the kernel's to run or to reject
    }
    const std::string& mode = auto_pad.value();
    if (mode != "NOTSET" && mode != "SAME_UPPER" && mode != "SAME_LOWER") return std::nullopt;
    Match m{id, {}};
    bool crops = false;
    for (size_t a = 0; a < r; ++a) {
      const int64_t in = x.dims[a + 2].value, k = w->dim(static_cast<int64_t>(a) + 2);
      const int64_t s = strides.value()[a], d = dilations.value()[a];
      int64_t pb = pads.value()[a], pe = pads.value()[a + r];
      if (!x.dims[a + 2].known() || in <= 0 || s < 1 || d < 1 || pb < 0 || pe < 0) return std::nullopt;
      if (std::max({in, k, s, d, pb, pe}) > kMaxAxisValue) return std::nullopt;
      if (!kernel.value().empty() && (kernel.value().size() != r || kernel.value()[a] != k)) return std::nullopt;
      if (mode != "NOTSET") {  // ceil(in / s) outputs, the odd pad at the end (UPPER) or the start (LOWER)
        const int64_t total = std::max<int64_t>(0, ((in + s - 1) / s - 1) * s + d * (k - 1) + 1 - in);
        pb = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
        pe = total - pb;
      }
      auto c = crop_axis(in, k, s, d, pb, pe);
      if (!c) return std::nullopt;
      crops = crops || c->kernel < k;
      m.axes.push_back(*c);
    }
    if (!crops || !dropped_weights_finite(*w, m.axes)) return std::nullopt;
    return m;
  }

  Result<std::string> rewrite(Graph& g, const Match& m) const {
    const Node n = g.node(m.conv);  // a copy: adding values below may move the nodes
    const Tensor& w = *g.constant_value(n.inputs[1]);
    const size_t r = m.axes.size();
    Shape shape = w.shape();
    const std::vector<int64_t> old_kernel(shape.begin() + 2, shape.end());
    std::vector<int64_t> kernel, pads(2 * r);
    for (size_t a = 0; a < r; ++a) {
      shape[a + 2] = m.axes[a].kernel;
      kernel.push_back(m.axes[a].kernel);
      pads[a] = m.axes[a].pad_begin;
      pads[a + r] = m.axes[a].pad_end;
    }
    Tensor cropped = Tensor::allocate(DataType::kFloat, shape);
    float* out = cropped.data<float>();
    for_each_kept(w, m.axes, [&](int64_t from) { *out++ = w.data<float>()[from]; });

    Fusion f = start_fusion(g, {m.conv}, n.op_type, n.domain, n.name);
    f.node.attrs = n.attrs;
    f.node.attrs.erase("auto_pad");  // the pads are explicit now
    f.node.attrs.set("kernel_shape", Attribute::from_ints(kernel));
    f.node.attrs.set("pads", Attribute::from_ints(pads));
    f.node.inputs = n.inputs;
    f.node.inputs[1] = add_constant(g, g.value(n.inputs[1]).name + "_cropped", std::move(cropped));
    std::string line = "cropped " + n.op_type + " " + quoted_name(g, n) + " kernel " + dims_text(old_kernel) + " -> " +
                       dims_text(kernel) + ": the other taps read only padding on its input";
    finalize_fusion(g, std::move(f));
    return line;
  }

 private:
  // Calls fn(index into w) for every kept weight, in the cropped tensor's order.
  template <typename Fn>
  static void for_each_kept(const Tensor& w, const std::vector<AxisCrop>& axes, Fn fn) {
    const int64_t r = static_cast<int64_t>(axes.size());
    const int64_t outer = w.dim(0) * w.dim(1);
    int64_t kept = 1, plane = 1;
    for (int64_t a = 0; a < r; ++a) kept *= axes[a].kernel, plane *= w.dim(a + 2);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < kept; ++i) {
        // Position i of the cropped window, axis by axis (last fastest), into the full one.
        int64_t rest = i, from = 0, stride = 1;
        for (int64_t a = r - 1; a >= 0; --a) {
          from += (rest % axes[a].kernel + axes[a].lo) * stride;
          rest /= axes[a].kernel;
          stride *= w.dim(a + 2);
        }
        fn(o * plane + from);
      }
    }
  }

  // Whether every weight the crop drops is finite (its products with the
  // padding are then zeros).
  static bool dropped_weights_finite(const Tensor& w, const std::vector<AxisCrop>& axes) {
    const int64_t total = w.num_elements();
    std::vector<char> kept(static_cast<size_t>(total), 0);
    for_each_kept(w, axes, [&](int64_t from) { kept[static_cast<size_t>(from)] = 1; });
    const float* v = w.data<float>();
    for (int64_t i = 0; i < total; ++i) {
      if (!kept[static_cast<size_t>(i)] && !std::isfinite(v[i])) return false;
    }
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> make_crop_conv_kernel() { return std::make_unique<PatternPass<CropConvKernel>>(); }

}  // namespace onnx_mini
