// Convolution on OpenBLAS (ops/blas.h): the path for a weight fed at run time
// and for CPUs without AVX-512F (or ONNX_MINI_PACKED_GEMM=0). Per image and
// group, the input patches are laid out as columns (im2col, skipped for a 1x1
// convolution that reads X as it is) and one sgemm gives Y; the epilogue then
// runs over the group's rows of Y while they are in cache. ConvTranspose
// runs the product the other way round (W^T * X gives every input pixel's
// footprint) and scatters the footprints into Y (col2im).
#pragma once

#include "ops/conv_geometry.h"
#include "ops/conv_packed.h"

namespace onnx_mini {

// Conv: w [M, C / group, kernel...].
void im2col_conv(const ConvGeometry& g, const float* w, const ConvRunArgs& args);

// ConvTranspose: w [C, M / group, kernel...]; args.z and the epilogue unused
// beyond the bias.
void col2im_conv_transpose(const ConvGeometry& g, const float* w, const ConvRunArgs& args);

}  // namespace onnx_mini
