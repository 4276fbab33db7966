// Depthwise convolution (group = input channels = output channels: each
// channel filtered by its own kernel, MobileNet's 3x3 layers) on its own
// vectorised kernel: it does kernel-size multiply-adds per output value, too
// few for a GEMM's blocking to pay, so it is bound by memory and a GEMM would
// waste it. NCHW, 1-D to 3-D, any kernel, stride, dilation and padding.
//
// Per channel plane, 16 output columns per AVX-512 vector: each kernel tap is
// one load of the input row (masked to the row's bounds, so padding costs
// nothing and needs no padded copy; stride 2 reads 32 values and keeps the
// even ones), one multiply-add. The epilogue (bias, skip tensor, ReLU/ReLU6 in
// registers, other activations on the row just stored) runs per output row.
// The weight is read in place ([C, 1, kernel...] is already per-channel
// contiguous): nothing to pack. The common 2-D 3x3 case runs channel-blocked
// on planes up to 28 wide (ops/conv_depthwise_blocked.h), on its own per-plane
// loop on wider ones (stride 1 or 2, ops/conv_depthwise_3x3.h); this general
// one on the rest.
#pragma once

#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"

namespace onnx_mini {

// Whether the kernel runs a convolution of `group` groups whose weight has
// this shape: one input and one output channel per group, AVX-512F present.
bool depthwise_applies(const Shape& w, int64_t group);

// Y = conv(X, W) + bias (+ z), activation; w [C, 1, kernel...].
void depthwise_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args);

}  // namespace onnx_mini
