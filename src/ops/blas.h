// The only door to BLAS: no other file includes cblas.h, so the BLAS in use
// (OpenBLAS today) and its threading are decided in one place.
#pragma once

#include <cstdint>

namespace onnx_mini::blas {

// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, row-major, leading dims given.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
           const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void dgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
           const double* b, int64_t ldb, double beta, double* c, int64_t ldc);
// y[M] = alpha * op(A) * x + beta * y, A row-major [rows, cols] with leading dim lda.
void sgemv(bool trans_a, int64_t rows, int64_t cols, float alpha, const float* a, int64_t lda, const float* x,
           float beta, float* y);

// Threads OpenBLAS may use (0 = its own default).
void set_num_threads(int n);
int num_threads();

}  // namespace onnx_mini::blas
