#include "core/tensor.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <new>

namespace onnx_mini {
namespace {

constexpr size_t kAlignment = 64;  // a cache line; also what AVX-512 loads prefer
// Large tensors (weights read from a file, big activations) go on 2 MiB-aligned
// storage marked for transparent huge pages: first touch then costs one fault per
// 2 MiB instead of per 4 KiB (measured: faulting 168 MB in 4 KiB pages took
// ~0.9 s of system time on this VM, several times the time to read the file),
// and GEMM/GEMV over the weights miss the TLB less.
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugeThreshold = size_t{4} << 20;

// Storage of kHugeThreshold bytes and more is mapped straight from the kernel
// and unmapped when freed, not taken from malloc. glibc raises its own mmap
// threshold to the size of each mapped chunk it frees (up to 32 MiB), so after
// the first large free such sizes come from its heap, where memory freed below
// the top stays resident. The execution frame frees its slots and then
// allocates its block after the first run (runtime/execution_frame.cc,
// grow_block): from the heap, the block took fresh pages beside the freed
// slots in about half the processes (where it fell depended on the heap's
// addresses), and the 1024-4096-4096-1000 MLP's peak RSS at batch 256 came to
// 1.073 x its bound instead of 0.996 (bench/compare_ort.sh).
bool is_mapped(size_t bytes) { return bytes >= kHugeThreshold; }

size_t mapped_size(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

void* map_huge(size_t bytes) {
  const size_t size = mapped_size(bytes);
  if (size < bytes || size > SIZE_MAX - kHugePage) throw std::bad_alloc();
  // Map one huge page more than needed and unmap the ends, so the start is
  // 2 MiB aligned (mmap itself only promises 4 KiB).
  const size_t span = size + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  const size_t head = aligned - start, tail = span - head - size;
  if (head > 0) munmap(raw, head);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + size), tail);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);  // advice only: failure is harmless
  return p;
}

void* allocate_bytes(size_t bytes) {
  if (is_mapped(bytes)) return map_huge(bytes);
  const size_t rounded = bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

// `bytes` as passed to allocate_bytes.
void free_bytes(void* p, size_t bytes) {
  if (!p) return;
  if (is_mapped(bytes)) {
    munmap(p, mapped_size(bytes));
  } else {
    std::free(p);
  }
}

}  // namespace

Tensor Tensor::allocate(DataType dtype, Shape shape) {
  Tensor t = allocate_for_overwrite(dtype, std::move(shape));
  std::memset(t.data_, 0, t.byte_size());
  return t;
}

Tensor Tensor::allocate_for_overwrite(DataType dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.num_elements_ = onnx_mini::num_elements(shape);
  t.shape_ = std::move(shape);
  const size_t bytes = t.byte_size();
  void* p = allocate_bytes(bytes);
  t.data_ = p;
  t.owner_ = std::shared_ptr<void>(p, [bytes](void* q) { free_bytes(q, bytes); });
  return t;
}

Tensor Tensor::wrap(DataType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.num_elements_ = onnx_mini::num_elements(shape);
  t.shape_ = std::move(shape);
  t.data_ = data;
  t.owner_ = std::move(owner);
  return t;
}

void Tensor::rebind(DataType dtype, std::span<const int64_t> shape, void* data, const std::shared_ptr<void>& owner) {
  dtype_ = dtype;
  shape_.assign(shape.begin(), shape.end());
  num_elements_ = onnx_mini::num_elements(shape_);
  data_ = data;
  if (owner_ != owner) owner_ = owner;
}

void Tensor::reset() {
  dtype_ = DataType::kUndefined;
  shape_.clear();
  num_elements_ = 0;
  data_ = nullptr;
  owner_.reset();
}

Tensor Tensor::clone() const {
  Tensor t = allocate(dtype_, shape_);
  if (byte_size()) std::memcpy(t.data_, data_, byte_size());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor t = *this;
  t.num_elements_ = onnx_mini::num_elements(shape);
  t.shape_ = std::move(shape);
  return t;
}

std::string describe(const Tensor& t) { return dtype_name(t.dtype()) + shape_to_string(t.shape()); }

Buffer::~Buffer() { free_bytes(data_, capacity_); }

void Buffer::release() {
  free_bytes(data_, capacity_);
  data_ = nullptr;
  capacity_ = 0;
}

void Buffer::reserve(size_t bytes) {
  if (bytes <= capacity_ && data_) return;
  release();
  data_ = allocate_bytes(bytes);
  capacity_ = bytes;
}

}  // namespace onnx_mini
