// What a convolution does to its output after the sum, on rows of one channel:
//   y = act(y + bias[channel] + z)
// bias the optional per-channel B, z FusedConv's optional skip tensor Z (shaped
// like Y: a residual connection), act one of the functors of
// ops/activation_functors.h (IdentityFn for a plain Conv). The kernels apply it
// to each output block while it is in L1 (or in registers: none, ReLU and
// Clip, see RegisterEpilogue), never in a second sweep over Y.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/attributes.h"
#include "core/status.h"
#include "ops/activation_functors.h"
#include "ops/fused_gemm.h"
#include "ops/packed_gemm.h"

namespace onnx_mini {

class ConvEpilogue {
 public:
  virtual ~ConvEpilogue() = default;
  // `rows` channel rows of n values, row i at y + i * ldy; bias[i] (bias null:
  // none); z row i at z + i * ldz (z null: none).
  virtual void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const float* bias, const float* z,
                     int64_t ldz) const = 0;
  // When the activation is none, ReLU or Clip: sets e's activation and returns
  // true (the kernel applies it in registers); else apply() must run.
  virtual bool register_form(RegisterEpilogue* e) const = 0;
  // Whether there is nothing to do without bias and z (a plain Conv's identity).
  virtual bool is_identity() const = 0;
};

template <typename Fn>
class ConvEpilogueImpl final : public ConvEpilogue {
 public:
  explicit ConvEpilogueImpl(Fn fn) : fn_(fn) {}
  void apply(float* y, int64_t ldy, int64_t rows, int64_t n, const float* bias, const float* z,
             int64_t ldz) const override {
    for (int64_t i = 0; i < rows; ++i) {
      float* row = y + i * ldy;
      const float b = bias ? bias[i] : 0.0f;
      if (z) {
        const float* zr = z + i * ldz;
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + b + zr[j]);
      } else if (bias || !std::is_same_v<Fn, IdentityFn>) {
        for (int64_t j = 0; j < n; ++j) row[j] = fn_(row[j] + b);
      }
    }
  }
  bool register_form(RegisterEpilogue* e) const override {
    e->relu = std::is_same_v<Fn, ReluFn>;
    if constexpr (std::is_same_v<Fn, ClipFn>) {
      e->clip = true;
      e->clip_lo = fn_.lo;
      e->clip_hi = fn_.hi;
    }
    return std::is_same_v<Fn, IdentityFn> || std::is_same_v<Fn, ReluFn> || std::is_same_v<Fn, ClipFn>;
  }
  bool is_identity() const override { return std::is_same_v<Fn, IdentityFn>; }

 private:
  Fn fn_;
};

// The activations a convolution's epilogue applies: those of FusedGemm's
// epilogue (ops/activation_list.h) and Clip with constant bounds (ReLU6),
// whose parameters are Clip-6's attributes `min` and `max`.
const FusedActivationInfo* find_conv_activation(const std::string& op_type);
std::string conv_activation_names();

// The epilogue for `activation` ("" for none) with its parameters under their
// ONNX names.
Result<std::unique_ptr<ConvEpilogue>> make_conv_epilogue(const std::string& activation, const Attributes& params);

}  // namespace onnx_mini
