// The depthwise kernel's common case on its own loop: a 2-D 3x3 kernel,
// dilation 1, horizontal stride 1 or 2 (MobileNet's depthwise layers), any
// vertical stride and any padding.
//
// Per output row, 16 output columns per AVX-512 vector. The 9 weights stay in
// registers; each kernel row has its own accumulator (three short chains of
// multiply-adds instead of one of nine). Stride 1 loads each input row once
// per chunk (the 16 values after the ones the chunk before loaded) and makes
// the taps kw = 1, 2 by shifting lanes across the two. Stride 2 loads 32
// consecutive input values per input row and splits them into the even and
// odd columns (the taps kw = 0 and 1), the tap kw = 2 being the even columns
// one lane on. Chunks whose loads all lie inside the input row load without
// masks; only the border chunks mask theirs, with masks worked out once per
// plane, not per tap. Rows of the vertical padding are skipped. At stride 1
// both ways, output rows whose kernel rows all lie inside the input go in
// pairs: their four input rows' taps are made once and feed both (a third
// fewer loads and lane shifts; the large MobileNet planes are bound by them).
// The epilogue (bias, skip tensor, ReLU/ReLU6) runs in registers before the
// store; other activations run on the rows just stored.
#pragma once

#include <cstdint>

#include "ops/conv_epilogue.h"
#include "ops/conv_geometry.h"

namespace onnx_mini {

// Whether depthwise_3x3_plane() runs this (depthwise) geometry.
bool depthwise_3x3_applies(const ConvGeometry& g);

// One channel plane: x the input plane, w its 9 weights, y (and z, or null)
// the output plane. `form` is applied in registers when in_registers, else
// `epilogue` runs on each row after the store (bias and z already added).
struct DepthwisePlane {
  const float* x = nullptr;
  const float* w = nullptr;
  float bias = 0;
  const float* z = nullptr;
  float* y = nullptr;
};
void depthwise_3x3_plane(const ConvGeometry& g, const DepthwisePlane& p, const RegisterEpilogue& form,
                         bool in_registers, const ConvEpilogue& epilogue);

}  // namespace onnx_mini
