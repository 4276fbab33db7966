// Storage of Tensor and Buffer (core/tensor.h): alignment, and that large
// storage goes back to the system the moment it is freed.
#include "core/tensor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace onnx_mini {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Resident bytes of this process (/proc/self/statm's second field).
int64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long size = 0, resident = -1;
  if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  std::fclose(f);
  return resident < 0 ? -1 : static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

bool aligned_to(const void* p, size_t alignment) { return reinterpret_cast<uintptr_t>(p) % alignment == 0; }

TEST(TensorStorage, SmallStorageIsCacheLineAligned) {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = Tensor::allocate(DataType::kFloat, {n});
    EXPECT_TRUE(aligned_to(t.raw_data(), 64)) << n;
  }
  Buffer b;
  b.reserve(100);
  EXPECT_TRUE(aligned_to(b.data(), 64));
  EXPECT_EQ(b.capacity(), 100u);
}

TEST(TensorStorage, LargeStorageIsHugePageAlignedAndZeroed) {
  Tensor t = Tensor::allocate(DataType::kFloat, {int64_t{5} << 20});  // 20 MiB
  EXPECT_TRUE(aligned_to(t.raw_data(), 2 * kMiB));
  const auto* f = static_cast<const float*>(t.raw_data());
  EXPECT_EQ(f[0], 0.0f);
  EXPECT_EQ(f[(int64_t{5} << 20) - 1], 0.0f);
  Buffer b;
  b.reserve(9 * kMiB + 5);
  EXPECT_TRUE(aligned_to(b.data(), 2 * kMiB));
  std::memset(b.data(), 1, b.capacity());  // every byte asked for is writable
}

// The failure this guards against: glibc raises its mmap threshold to the size
// of a mapped chunk once it frees one, so later, smaller allocations came from
// its heap, and freeing them there left their pages resident (the execution
// frame's slots after its first run stayed beside the block that replaced
// them). The first buffer here is larger than the rest, as the packed weights
// are larger than an MLP's activations.
TEST(TensorStorage, FreedLargeStorageLeavesTheProcess) {
  {
    Buffer warm;
    warm.reserve(24 * kMiB);
    std::memset(warm.data(), 1, warm.capacity());
  }
  const size_t bytes = 8 * kMiB;
  Buffer b;
  b.reserve(bytes);
  std::memset(b.data(), 1, bytes);
  const int64_t held = resident_bytes();
  b.release();
  const int64_t after = resident_bytes();
  ASSERT_GT(held, 0);
  // Most of it back (under AddressSanitizer the unmapping touches some shadow
  // memory of its own, ~1/8 of the size); from the heap none of it came back.
  EXPECT_GE(held - after, static_cast<int64_t>(bytes / 2)) << "resident " << held << " -> " << after;

  Tensor t = Tensor::allocate(DataType::kFloat, {static_cast<int64_t>(bytes / sizeof(float))});
  const int64_t with_tensor = resident_bytes();
  t.reset();
  const int64_t without = resident_bytes();
  EXPECT_GE(with_tensor - without, static_cast<int64_t>(bytes / 2)) << "resident " << with_tensor << " -> " << without;
}

}  // namespace
}  // namespace onnx_mini
