// The depthwise 3x3 convolution on small planes (MobileNet's 7x7 to 28x28
// layers), channel-blocked: the per-plane loop of ops/conv_depthwise_3x3.h
// puts output columns in the vector lanes, so a 7- or 14-wide row wastes most
// of a 16-lane vector and every plane pays its set-up. Here the lanes hold 16
// channels instead, as ONNX Runtime's NCHWc kernels do, so the row width costs
// nothing.
//
// Per image and block of 16 channels: the 16 input planes are transposed into a
// [rows][input columns][16] scratch (16x16 register transposes over the
// flattened planes, stored as consecutive pixel vectors, so a 7-wide row
// wastes no lanes and costs no per-pixel addressing; zero rows above and below,
// the columns left and right of the input masked off at the load); each output
// pixel is then 9 multiply-adds of the block's 9 weight vectors (in registers)
// with 9 pixel vectors, in runs of up to 14 output pixels of a row whose input
// pixels are each loaded once per kernel row (loads stay well below the
// multiply-adds); the result is transposed back into the 16 NCHW output
// planes with the epilogue applied on the way (bias, skip tensor, ReLU/Clip in
// registers; other activations on the planes just stored): on output rows of
// up to 14 pixels (the 7- and 14-wide layers) straight from the registers,
// 16 / width whole rows at a time, so the multiply-adds and the transposes'
// shuffles interleave; on wider ones through a [pixels][16] scratch.
// Tasks are (block, run of images): the weights set up once per run, the next
// image's planes fetched into L2 while one is computed.
// Channels past the last full block run as zero lanes and are not stored.
// Scratch comes from per-thread buffers that only grow.
#pragma once

#include "ops/conv_epilogue.h"
#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"

namespace onnx_mini {

// Whether depthwise_blocked_conv() runs this depthwise geometry: 2-D 3x3,
// dilation 1, any stride, rows narrow enough for the blocked form to beat the
// per-plane loop (measured, see the .cc).
bool depthwise_blocked_applies(const ConvGeometry& g);

// Y = conv(X, W) + bias (+ z), activation; w [C, 1, 3, 3]. `form` is applied
// in registers when in_registers, else args.epilogue runs on the stored planes.
void depthwise_blocked_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args,
                            const RegisterEpilogue& form, bool in_registers);

}  // namespace onnx_mini
