#include "ops/padded_row.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <vector>

namespace onnx_mini {
namespace {

bool cpu_runs_it() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512f");
#else
  return true;  // the memset / memcpy form
#endif
}

// A source row of `width` floats whose last one ends a readable page, the
// next page PROT_NONE: a lane read past the row's end faults (SIGSEGV), so a
// load that is not masked off fails the test, not just a wrong value.
class FencedRow {
 public:
  explicit FencedRow(int64_t width) : page_(sysconf(_SC_PAGESIZE)), width_(width) {
    // [data pages][PROT_NONE page]
    const size_t data_pages = (static_cast<size_t>(width) * sizeof(float) + page_ - 1) / page_ + 1;
    bytes_ = (data_pages + 1) * page_;
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<char*>(p);
    EXPECT_EQ(mprotect(base_ + data_pages * page_, page_, PROT_NONE), 0);
    end_ = reinterpret_cast<float*>(base_ + data_pages * page_);
    for (int64_t i = 0; i < width; ++i) data()[i] = 1.0f + static_cast<float>(i);
  }
  ~FencedRow() { munmap(base_, bytes_); }
  float* data() { return end_ - width_; }

 private:
  size_t page_, bytes_ = 0;
  int64_t width_;
  char* base_ = nullptr;
  float* end_ = nullptr;
};

// Every split of a row into left padding, values and right padding up to a
// few vectors each (the gathered form's rows: 1 + 56 + 1 at ResNet-18's
// 56x56, 1 + 13 + 1 at SqueezeNet's 13x13; wider pads for larger kernels):
// each value lands in place, each padding float is +0, and nothing before or
// after the row is written.
TEST(PaddedRow, CopiesTheRowBetweenZeros) {
  if (!cpu_runs_it()) GTEST_SKIP() << "needs AVX-512F";
  constexpr float kCanary = -7.5f;
  constexpr int64_t kGuard = 20;
  for (int64_t width : {0, 1, 7, 13, 15, 16, 17, 31, 32, 33, 56, 57}) {
    FencedRow src(width);
    for (int64_t left = 0; left <= 33; left += (left < 4 ? 1 : 13)) {
      for (int64_t right = 0; right <= 40; right += (right < 4 ? 1 : 9)) {
        const int64_t total = left + width + right;
        std::vector<float> out(static_cast<size_t>(total + 2 * kGuard), kCanary);
        float* dst = out.data() + kGuard;
        zero_padded_row(dst, left, src.data(), width, right);
        for (int64_t j = -kGuard; j < total + kGuard; ++j) {
          const float got = dst[j];
          if (j < 0 || j >= total) {
            ASSERT_EQ(got, kCanary) << "wrote outside the row at " << j << " (left " << left << ", width " << width
                                    << ", right " << right << ")";
          } else if (j < left || j >= left + width) {
            ASSERT_TRUE(got == 0.0f && !std::signbit(got)) << "padding at " << j << " is " << got;
          } else {
            ASSERT_EQ(got, src.data()[j - left]) << "value at " << j;
          }
        }
      }
    }
  }
}

TEST(PaddedRow, ZeroRowWritesExactlyItsLength) {
  if (!cpu_runs_it()) GTEST_SKIP() << "needs AVX-512F";
  for (int64_t n : {0, 1, 15, 16, 17, 58, 88}) {
    std::vector<float> out(static_cast<size_t>(n + 32), 3.0f);
    zero_row(out.data() + 16, n);
    for (int64_t j = 0; j < n + 32; ++j) {
      const bool inside = j >= 16 && j < 16 + n;
      ASSERT_EQ(out[static_cast<size_t>(j)], inside ? 0.0f : 3.0f) << "n " << n << " at " << j;
    }
  }
}

}  // namespace
}  // namespace onnx_mini
