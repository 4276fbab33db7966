// Tensors as the public API sees them: a typed view of memory someone else
// owns (the caller's for inputs and caller-provided outputs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onnx_mini/export.h"

namespace onnx_mini::api {

// The numbers are ONNX's TensorProto.DataType values.
enum class ElementType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kBFloat16 = 16,
};

// "float", "int64", ...; "undefined" for a value outside the enum.
ONNX_MINI_API const char* element_type_name(ElementType type);
// Bytes per element; 0 for kUndefined.
ONNX_MINI_API size_t element_size(ElementType type);

// A dense, row-major view. For an input, the memory is read during run() and
// never kept; for an output, run() writes exactly `byte_size()` bytes.
struct ONNX_MINI_API TensorView {
  std::string name;
  ElementType type = ElementType::kUndefined;
  std::vector<int64_t> shape;
  void* data = nullptr;
  size_t capacity_bytes = 0;  // outputs: what `data` can hold

  int64_t num_elements() const;
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * element_size(type); }
};

// An output the library allocated: `data` stays valid while `keep_alive` (or a
// copy of it) lives, whatever later runs do.
struct ONNX_MINI_API OwnedTensor {
  std::string name;
  ElementType type = ElementType::kUndefined;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::shared_ptr<const void> keep_alive;

  int64_t num_elements() const;
  size_t byte_size() const { return static_cast<size_t>(num_elements()) * element_size(type); }
};

// One dimension of a declared shape: a size, a symbolic name ("batch"), or
// neither (value < 0 and an empty symbol).
struct Dimension {
  int64_t value = -1;
  std::string symbol;
};

// What the model declares for one of its inputs or outputs.
struct ValueInfo {
  std::string name;
  ElementType type = ElementType::kUndefined;
  bool has_shape = false;  // false: even the rank is unknown
  std::vector<Dimension> shape;
};

}  // namespace onnx_mini::api
