#include "ops/conv_im2col.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "ops/blas.h"
#include "ops/parallel.h"

namespace onnx_mini {
namespace {

// Per-thread scratch that only grows: no allocation in steady state.
float* scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// cols [Cg * kernel_pixels, P]: row (c, kd, kh, kw), column (od, oh, ow) holds
// x[c, od*sd + kd*dd - pd, ...], zero outside the input.
void im2col(const ConvGeometry& g, const float* x, float* cols) {
  const int64_t P = g.out_pixels();
  for (int64_t c = 0; c < g.in_group_channels(); ++c) {
    const float* plane = x + c * g.in_pixels();
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, cols += P) {
          float* out = cols;
          for (int64_t od = 0; od < g.out[0]; ++od) {
            const int64_t id = od * g.stride[0] + kd * g.dilation[0] - g.pad_begin[0];
            for (int64_t oh = 0; oh < g.out[1]; ++oh, out += g.out[2]) {
              const int64_t ih = oh * g.stride[1] + kh * g.dilation[1] - g.pad_begin[1];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
                std::fill(out, out + g.out[2], 0.0f);
                continue;
              }
              const float* row = plane + (id * g.in[1] + ih) * g.in[2];
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                const int64_t iw = ow * g.stride[2] + kw * g.dilation[2] - g.pad_begin[2];
                out[ow] = iw >= 0 && iw < g.in[2] ? row[iw] : 0.0f;
              }
            }
          }
        }
      }
    }
  }
}

// Adds cols [Mg * kernel_pixels, Pin] into y [Mg, Pout]: input pixel (id, ih,
// iw) at kernel position (kd, kh, kw) lands on output (id*sd + kd*dd - pd, ...).
void col2im(const ConvGeometry& g, const float* cols, float* y) {
  const int64_t p_in = g.in_pixels(), p_out = g.out_pixels();
  for (int64_t m = 0; m < g.out_group_channels(); ++m) {
    float* plane = y + m * p_out;
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, cols += p_in) {
          const float* in = cols;
          for (int64_t id = 0; id < g.in[0]; ++id) {
            const int64_t od = id * g.stride[0] + kd * g.dilation[0] - g.pad_begin[0];
            for (int64_t ih = 0; ih < g.in[1]; ++ih, in += g.in[2]) {
              const int64_t oh = ih * g.stride[1] + kh * g.dilation[1] - g.pad_begin[1];
              if (od < 0 || od >= g.out[0] || oh < 0 || oh >= g.out[1]) continue;
              float* row = plane + (od * g.out[1] + oh) * g.out[2];
              for (int64_t iw = 0; iw < g.in[2]; ++iw) {
                const int64_t ow = iw * g.stride[2] + kw * g.dilation[2] - g.pad_begin[2];
                if (ow >= 0 && ow < g.out[2]) row[ow] += in[iw];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

void im2col_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args) {
  const int64_t P = g.out_pixels(), cg = g.in_group_channels(), mg = g.out_group_channels();
  const int64_t k = cg * g.kernel_pixels();
  const bool pointwise = g.is_pointwise();
  for_each_task(g.batch * g.group > 1 ? args.pool : nullptr, g.batch * g.group, [&](int64_t unit) {
    const int64_t n = unit / g.group, group = unit % g.group;
    const float* x = args.x + (n * g.in_channels + group * cg) * g.in_pixels();
    const int64_t offset = (n * g.out_channels + group * mg) * P;
    float* y = args.y + offset;
    const float* cols = x;
    if (!pointwise) {
      float* buffer = scratch(static_cast<size_t>(k * P));
      im2col(g, x, buffer);
      cols = buffer;
    }
    if (k == 0) {
      std::fill(y, y + mg * P, 0.0f);
    } else {
      blas::sgemm(false, false, mg, P, k, 1.0f, w + group * mg * k, k, cols, P, 0.0f, y, P);
    }
    args.epilogue->apply(y, P, mg, P, args.bias ? args.bias + group * mg : nullptr, args.z ? args.z + offset : nullptr,
                         P);
  });
}

void col2im_conv_transpose(const ConvGeometry& g, const float* w, const ConvRunArgs& args) {
  const int64_t p_in = g.in_pixels(), p_out = g.out_pixels();
  const int64_t cg = g.in_group_channels(), mg = g.out_group_channels(), rows = mg * g.kernel_pixels();
  for_each_task(g.batch * g.group > 1 ? args.pool : nullptr, g.batch * g.group, [&](int64_t unit) {
    const int64_t n = unit / g.group, group = unit % g.group;
    const float* x = args.x + (n * g.in_channels + group * cg) * p_in;
    float* y = args.y + (n * g.out_channels + group * mg) * p_out;
    for (int64_t m = 0; m < mg; ++m) {
      const float b = args.bias ? args.bias[group * mg + m] : 0.0f;
      std::fill(y + m * p_out, y + (m + 1) * p_out, b);
    }
    if (cg == 0 || rows == 0) return;  // no input channel: the bias alone
    float* cols = scratch(static_cast<size_t>(rows * p_in));
    // W_g [Cg, Mg * kernel] (rows of W for this group's input channels), read transposed.
    blas::sgemm(true, false, rows, p_in, cg, 1.0f, w + group * cg * rows, rows, x, p_in, 0.0f, cols, p_in);
    col2im(g, cols, y);
  });
}

}  // namespace onnx_mini
