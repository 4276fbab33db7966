// What a float GEMM does to its output after the product: y = act(y + beta * C),
// the bias C broadcast to [M, N] and act one of the functors of
// ops/activation_functors.h (IdentityFn for a plain Gemm). Applied per block
// while the block is still in cache: per tile inside the packed kernel, per row
// block after an OpenBLAS call.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>

#include "core/attributes.h"
#include "core/status.h"
#include "ops/activation_functors.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

// How the bias C is read: element (i, j) is at data[i * row_stride + j * col_stride]
// (strides 0 along broadcast dims). data null: no bias.
struct BiasView {
  const float* data = nullptr;
  int64_t row_stride = 0, col_stride = 0;
};

// The epilogue over rows [0, rows) of a block.
class Epilogue {
 public:
  virtual ~Epilogue() = default;
  // Rows [0, rows) of a block whose rows are ldy apart.
  virtual void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const BiasView& bias, float beta) const = 0;
  // y[i, j] = act(yt[j, i] + beta * C[i, j]) for i < m, j < n: the epilogue of the
  // swapped GEMM, reading its [n, m] result transposed.
  virtual void apply_transposed(const float* yt, float* y, int64_t m, int64_t n, const BiasView& bias,
                                float beta) const = 0;
  // Whether the activation is Relu or none: the two the packed micro-kernel
  // applies in registers (RegisterEpilogue).
  virtual bool register_form(bool* relu) const = 0;
};

template <typename Fn>
class EpilogueImpl final : public Epilogue {
 public:
  explicit EpilogueImpl(Fn fn) : fn_(fn) {}
  bool register_form(bool* relu) const override {
    *relu = std::is_same_v<Fn, ReluFn>;
    return std::is_same_v<Fn, ReluFn> || std::is_same_v<Fn, IdentityFn>;
  }
  void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const BiasView& bias, float beta) const override {
    if constexpr (HasRowForm<Fn>) {
      // The bias first, then the vectorised activation over the whole row.
      if (bias.data) EpilogueImpl<IdentityFn>(IdentityFn{}).apply(y, ldy, rows, n, bias, beta);
      for (int64_t i = 0; i < rows; ++i) fn_.apply_row(y + i * ldy, y + i * ldy, n);
      return;
    }
    for (int64_t i = 0; i < rows; ++i) {
      float* row = y + i * ldy;
      if (!bias.data) {
        if constexpr (std::is_same_v<Fn, IdentityFn>) continue;  // nothing to do
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j]);
      } else if (bias.col_stride == 1 && beta == 1.0f) {  // the nn.Linear case: vectorizes
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + b[j]);
      } else {
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + beta * b[j * bias.col_stride]);
      }
    }
  }
  void apply_transposed(const float* yt, float* y, int64_t m, int64_t n, const BiasView& bias,
                        float beta) const override {
    if constexpr (HasRowForm<Fn>) {
      EpilogueImpl<IdentityFn>(IdentityFn{}).apply_transposed(yt, y, m, n, bias, beta);
      for (int64_t i = 0; i < m; ++i) fn_.apply_row(y + i * n, y + i * n, n);
      return;
    }
    for (int64_t i = 0; i < m; ++i) {
      float* row = y + i * n;
      const float* col = yt + i;  // column i of yt, stride m
      if (!bias.data) {
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m]);
      } else if (bias.col_stride == 1 && beta == 1.0f) {  // the nn.Linear case
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m] + b[j]);
      } else {
        const float* b = bias.data + i * bias.row_stride;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(col[j * m] + beta * b[j * bias.col_stride]);
      }
    }
  }

 private:
  Fn fn_;
};

// The functor initialised from its parameters (ONNX attribute names).
template <typename Fn>
Result<std::unique_ptr<Epilogue>> make_epilogue(const Attributes& params) {
  Fn fn;
  OM_RETURN_IF_ERROR(fn.init(params));
  return std::unique_ptr<Epilogue>(std::make_unique<EpilogueImpl<Fn>>(fn));
}

// The packed kernel's per-tile callback: the epilogue on one tile, with the bias
// moved to the tile's origin.
class TileEpilogueAdapter final : public TileEpilogue {
 public:
  TileEpilogueAdapter(const Epilogue& epilogue, const BiasView& bias, float beta)
      : epilogue_(epilogue), bias_(bias), beta_(beta) {}
  // nn.Linear's form (a bias per column, beta = 1, or no bias) with Relu or no
  // activation goes into the micro-kernel's registers.
  bool in_registers(RegisterEpilogue* form) const override {
    bool relu = false;
    if (!epilogue_.register_form(&relu)) return false;
    if (bias_.data && !(bias_.col_stride == 1 && bias_.row_stride == 0 && beta_ == 1.0f)) return false;
    form->bias = bias_.data;
    form->relu = relu;
    return true;
  }
  void apply(float* y, int64_t ldy, int64_t rows, int64_t cols, int64_t row0, int64_t col0) const override {
    BiasView bias = bias_;
    if (bias.data) bias.data += row0 * bias.row_stride + col0 * bias.col_stride;
    epilogue_.apply(y, ldy, rows, cols, bias, beta_);
  }

 private:
  const Epilogue& epilogue_;
  BiasView bias_;
  float beta_;
};

}  // namespace onnx_mini
