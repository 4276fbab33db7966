// The checks the convolution rewrites share (FoldBatchNormalization,
// CropConvKernel, FuseConvAdd, FuseConvActivation): which nodes count as a
// convolution, and which of them may still take a bias, a skip tensor or an
// activation.
#pragma once

#include "graph/ir.h"

namespace onnx_mini {

// Conv (any version; no attributes beyond Conv's) or FusedConv, on float.
bool is_float_conv(const Graph& g, const Node& n);

// Conv (any version), or FusedConv with neither activation nor skip input Z,
// on float: its output is the plain convolution plus bias.
bool is_plain_conv(const Graph& g, const Node& n);

// FusedConv with no activation (it may already add a skip tensor).
bool is_conv_without_activation(const Graph& g, const Node& n);

// The same dims (equal known sizes or the same symbolic names) on both values,
// both with a known rank: an Add of them needs no broadcasting.
bool same_shape(const Graph& g, ValueId a, ValueId b);

// The float value of a constant scalar (a one-element float initializer).
bool constant_scalar(const Graph& g, ValueId v, float* value);

}  // namespace onnx_mini
