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

// Holds OpenBLAS at one thread for the rest of the process (idempotent, cheap
// after the first call). Sessions do this when they are built: each session's
// intra-op parallelism is its own thread pool (ops/parallel.h), which splits
// large BLAS calls into row blocks, so a session of N threads uses N threads in
// all, where OpenBLAS's own (process-wide) thread count could not be per session.
void hold_single_threaded();
// Threads OpenBLAS may use now, and a setter for benchmarks that time OpenBLAS
// alone at several threads (the next session built sets it back to 1).
int num_threads();
void set_num_threads(int n);

}  // namespace onnx_mini::blas
