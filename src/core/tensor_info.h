// What is known of a value before any run: dtype and (possibly symbolic) shape,
// plus its contents when it is a constant. Shape inference fills it in at load
// time; kernels see it at session build (NodeInfo); the IR keeps one per value.
#pragma once

#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/shape.h"
#include "core/tensor.h"

namespace onnx_mini {

// One dimension: a known size, a symbolic name ("batch"), or neither.
struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string param;   // symbolic name when known only by name ("batch")
  bool known() const { return value >= 0; }
};
struct TensorInfo {
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;  // rank known
  std::vector<Dim> dims;
  const Tensor* constant = nullptr;  // set for initializers / folded constants

  static TensorInfo of(DataType t, const Shape& s);
  bool fully_known() const;
  Shape concrete_shape() const;  // only when fully_known()
  std::string to_string() const;
};

}  // namespace onnx_mini
