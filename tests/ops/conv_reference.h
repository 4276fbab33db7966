// Naive double-precision Conv and ConvTranspose for the tests: the ONNX
// definitions written as directly as possible (one loop over outputs, one over
// the taps), with their own output-size and padding formulas, so a mistake in
// ops/conv_geometry.cc does not cancel out.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "tests/testutil/tensors.h"

namespace onnx_mini::testing {

struct ConvCase {
  Shape x;                                // [N, C, spatial...]
  int64_t out_channels = 1;               // M
  std::vector<int64_t> kernel;            // per spatial axis
  std::vector<int64_t> strides = {}, dilations = {}, pads = {};  // empty: defaults
  int64_t group = 1;
  std::string auto_pad = "NOTSET";
  bool bias = true;

  int spatial() const { return static_cast<int>(x.size()) - 2; }
  int64_t stride(int i) const { return strides.empty() ? 1 : strides[static_cast<size_t>(i)]; }
  int64_t dilation(int i) const { return dilations.empty() ? 1 : dilations[static_cast<size_t>(i)]; }
  Shape w_shape() const {
    Shape s = {out_channels, x[1] / group};
    s.insert(s.end(), kernel.begin(), kernel.end());
    return s;
  }
  // Output size and begin pad of axis i (Conv-11 formulas).
  void axis(int i, int64_t* out, int64_t* pad_begin) const {
    const int64_t in = x[static_cast<size_t>(i) + 2], dk = (kernel[static_cast<size_t>(i)] - 1) * dilation(i) + 1;
    const int64_t s = stride(i);
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      *out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (*out - 1) * s + dk - in);
      *pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      return;
    }
    const int64_t pb = auto_pad == "VALID" || pads.empty() ? 0 : pads[static_cast<size_t>(i)];
    const int64_t pe = auto_pad == "VALID" || pads.empty() ? 0 : pads[static_cast<size_t>(i + spatial())];
    *out = (in + pb + pe - dk) / s + 1;
    *pad_begin = pb;
  }
  Shape y_shape() const {
    Shape s = {x[0], out_channels};
    for (int i = 0; i < spatial(); ++i) {
      int64_t out, pb;
      axis(i, &out, &pb);
      s.push_back(out);
    }
    return s;
  }
};

// y = act(conv(x, w) + b + z) in double; b and z may be null. The taps'
// coordinates are worked out once, and nothing is allocated per output or
// tap: under AddressSanitizer each allocation is intercepted, and the four
// vectors a tap took made the convolution tests' references most of their
// time (WinogradConvTest.ChannelsTilesAndBatches 286 s in CI's sanitizer pass).
inline Tensor reference_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor* b, const Tensor* z,
                             const std::function<double(double)>& act = [](double v) { return v; }) {
  const Shape ys = c.y_shape();
  Tensor y = Tensor::allocate(DataType::kDouble, ys);
  const auto sp = static_cast<size_t>(c.spatial());
  std::vector<int64_t> pad_begin(sp), stride(sp), dilation(sp);
  for (size_t a = 0; a < sp; ++a) {
    int64_t out;
    c.axis(static_cast<int>(a), &out, &pad_begin[a]);
    stride[a] = c.stride(static_cast<int>(a));
    dilation[a] = c.dilation(static_cast<int>(a));
  }
  const int64_t cg = c.x[1] / c.group, mg = c.out_channels / c.group;
  // taps[kp * sp + a]: kernel position kp's coordinate along spatial axis a
  // (kp in W's row-major order over the kernel's axes).
  const Shape kshape(c.kernel.begin(), c.kernel.end());
  int64_t kernel_count = 1;
  for (int64_t k : c.kernel) kernel_count *= k;
  std::vector<int64_t> taps;
  for (int64_t kp = 0; kp < kernel_count; ++kp) {
    const std::vector<int64_t> k = unravel(kp, kshape);
    taps.insert(taps.end(), k.begin(), k.end());
  }
  const float* xd = x.data<float>();
  const float* wd = w.data<float>();
  std::vector<int64_t> o(ys.size());
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    unravel(i, ys, o);
    const int64_t n = o[0], m = o[1], group = m / mg;
    double acc = b ? b->data<float>()[m] : 0.0;
    for (int64_t ci = 0; ci < cg; ++ci) {
      for (int64_t kp = 0; kp < kernel_count; ++kp) {
        // x's element [n, group * cg + ci, pos...], pos = o * stride + k * dilation - pad_begin.
        int64_t xi = n * c.x[1] + group * cg + ci;
        bool inside = true;
        for (size_t a = 0; a < sp; ++a) {
          const int64_t p = o[a + 2] * stride[a] + taps[static_cast<size_t>(kp) * sp + a] * dilation[a] - pad_begin[a];
          inside = inside && p >= 0 && p < c.x[a + 2];
          xi = xi * c.x[a + 2] + p;
        }
        if (!inside) continue;
        const int64_t wi = (m * cg + ci) * kernel_count + kp;  // W's element [m, ci, k...]
        acc += static_cast<double>(xd[xi]) * static_cast<double>(wd[wi]);
      }
    }
    if (z) acc += z->data<float>()[i];
    y.data<double>()[i] = act(acc);
  }
  return y;
}

// ConvTranspose in double from its definition: every input pixel i scatters
// x * w into output o = i * stride + k * dilation - pad_begin (dropped outside
// [0, out)); `out` and `pad_begin` per spatial axis, resolved by the caller.
inline Tensor reference_conv_transpose(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
                                       const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                       const std::vector<int64_t>& pad_begin, const std::vector<int64_t>& out) {
  const Shape& xs = x.shape();
  const Shape& ws = w.shape();
  const int sp = static_cast<int>(xs.size()) - 2;
  const int64_t cg = xs[1] / group, mg = ws[1];
  Shape ys = {xs[0], mg * group};
  ys.insert(ys.end(), out.begin(), out.end());
  Tensor y = Tensor::allocate(DataType::kDouble, ys);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    y.data<double>()[i] = b ? b->data<float>()[unravel(i, ys)[1]] : 0.0;
  }
  const Shape kshape(ws.begin() + 2, ws.end());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const std::vector<int64_t> xi = unravel(i, xs);
    const int64_t group_index = xi[1] / cg;
    for (int64_t kp = 0; kp < w.num_elements() / (ws[0] * ws[1]); ++kp) {
      const std::vector<int64_t> k = unravel(kp, kshape);
      std::vector<int64_t> yi = {xi[0], 0};
      bool inside = true;
      for (int a = 0; a < sp; ++a) {
        const size_t s = static_cast<size_t>(a);
        const int64_t pos = xi[s + 2] * strides[s] + k[s] * dilations[s] - pad_begin[s];
        inside = inside && pos >= 0 && pos < out[s];
        yi.push_back(pos);
      }
      if (!inside) continue;
      for (int64_t m = 0; m < mg; ++m) {
        yi[1] = group_index * mg + m;
        std::vector<int64_t> wi = {xi[1], m};
        wi.insert(wi.end(), k.begin(), k.end());
        y.data<double>()[ravel(yi, ys)] +=
            static_cast<double>(x.data<float>()[i]) * static_cast<double>(w.data<float>()[ravel(wi, ws)]);
      }
    }
  }
  return y;
}

}  // namespace onnx_mini::testing
