// The activations of RNN, GRU and LSTM, named by their `activations`
// attribute with parameters from `activation_alpha` / `activation_beta`. Each
// applies the functor of ops/activation_functors.h that the standalone op uses.
//
// The parameter lists are consumed in the order of the activations, each
// activation taking only the parameters it has (as ONNX Runtime reads them):
// activations = [LeakyRelu, Tanh, HardSigmoid], activation_alpha = [0.1, 0.3],
// activation_beta = [0.6] gives LeakyRelu alpha 0.1 and HardSigmoid alpha 0.3,
// beta 0.6. A parameter the lists run out of takes the ONNX op's default.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace onnx_mini {

class RecurrentActivation {
 public:
  // Applies the activation to n contiguous values in place.
  void apply(float* x, int64_t n) const { fn_->apply(x, n); }
  const std::string& name() const { return name_; }

  class SpanFn {
   public:
    virtual ~SpanFn() = default;
    virtual void apply(float* x, int64_t n) const = 0;
  };

 private:
  friend Result<std::vector<RecurrentActivation>> parse_recurrent_activations(const std::vector<std::string>&,
                                                                               const std::vector<float>&,
                                                                               const std::vector<float>&);
  std::string name_;
  std::shared_ptr<const SpanFn> fn_;
};

// The activations named, in order (names matched without regard to case, as
// ONNX Runtime does: exporters write both "Tanh" and "tanh"). An unknown name
// or a parameter list longer than the activations consume is an error.
Result<std::vector<RecurrentActivation>> parse_recurrent_activations(const std::vector<std::string>& names,
                                                                     const std::vector<float>& alphas,
                                                                     const std::vector<float>& betas);

// The names accepted, for messages and tests.
std::vector<std::string> recurrent_activation_names();

}  // namespace onnx_mini
