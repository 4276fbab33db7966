// The whole public C++ API of onnx-mini.
#pragma once

#include "onnx_mini/session.h"
#include "onnx_mini/status.h"
#include "onnx_mini/tensor.h"
