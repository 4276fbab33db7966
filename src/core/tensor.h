// A typed n-d array. Storage is shared (std::shared_ptr owner), so copying a
// Tensor is a cheap view: initializers live once in the session, possibly inside
// the parsed protobuf or a memory-mapped external file, and are never copied per run.
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "core/dtype.h"
#include "core/shape.h"

namespace onnx_mini {

class Tensor {
 public:
  Tensor() = default;

  // Fresh 64-byte aligned, zero-filled storage. Shape must already be validated.
  static Tensor allocate(DataType dtype, Shape shape);
  // Same without the zero fill, for storage the caller overwrites entirely
  // (a 200 MB weight read from a file: the fill would be a wasted pass).
  static Tensor allocate_for_overwrite(DataType dtype, Shape shape);
  // A view of memory kept alive by owner (may be null for memory the caller keeps alive).
  static Tensor wrap(DataType dtype, Shape shape, void* data, std::shared_ptr<void> owner);

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t num_elements() const { return num_elements_; }
  size_t byte_size() const { return static_cast<size_t>(num_elements_) * dtype_size(dtype_); }
  bool defined() const { return dtype_ != DataType::kUndefined; }

  void* raw_data() { return data_; }
  const void* raw_data() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }

  // Re-points this tensor at other storage, reusing the shape's capacity
  // (the executor's per-run path: no allocation when the rank is unchanged).
  void rebind(DataType dtype, std::span<const int64_t> shape, void* data, const std::shared_ptr<void>& owner);
  // Back to an undefined tensor, dropping the storage reference but keeping the
  // shape's capacity, so the next rebind or copy-assignment allocates nothing.
  void reset();

  // Deep copy into fresh storage.
  Tensor clone() const;
  // Same storage, new shape with the same element count (checked by the caller).
  Tensor reshaped(Shape shape) const;
  const std::shared_ptr<void>& owner() const { return owner_; }

 private:
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t num_elements_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<void> owner_;
};

// "float[2, 3]"
std::string describe(const Tensor& t);

// Growable aligned storage reused across runs by the memory plan: growing is the
// only allocation, so a steady-state run with unchanged shapes allocates nothing.
class Buffer {
 public:
  Buffer() = default;
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void reserve(size_t bytes);  // keeps nothing of the old contents when it grows
  void release();              // frees the memory; capacity 0
  void* data() { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace onnx_mini
