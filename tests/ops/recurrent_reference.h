// A naive double-precision RNN / GRU / LSTM written from the ONNX spec's
// equations, one batch row and one time step at a time, for the recurrent
// kernels' tests. Layout 0 throughout; the tests transpose for layout 1.
#pragma once

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace onnx_mini::testing {

struct RecurrentSpec {
  std::string op;  // "RNN", "GRU", "LSTM"
  std::string direction = "forward";
  int64_t seq = 3, batch = 2, input = 3, hidden = 4;
  std::vector<int32_t> lens;  // empty: every row runs the whole sequence
  std::vector<std::string> activations;  // empty: the op's defaults
  std::vector<float> alphas, betas;
  std::optional<float> clip;
  bool linear_before_reset = false;  // GRU
  bool input_forget = false;         // LSTM

  int gates() const { return op == "RNN" ? 1 : op == "GRU" ? 3 : 4; }
  int64_t dirs() const { return direction == "bidirectional" ? 2 : 1; }
  size_t per_direction() const { return op == "RNN" ? 1 : op == "GRU" ? 2 : 3; }
};

// The spec's activation formulas with parameters (not the runtime's functors).
struct RefActivation {
  std::string name;
  double alpha = 0, beta = 0;
  double operator()(double x) const {
    if (name == "Relu") return std::max(0.0, x);
    if (name == "Tanh") return std::tanh(x);
    if (name == "Sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "Affine") return alpha * x + beta;
    if (name == "LeakyRelu") return x >= 0 ? x : alpha * x;
    if (name == "ThresholdedRelu") return x > alpha ? x : 0.0;
    if (name == "ScaledTanh") return alpha * std::tanh(beta * x);
    if (name == "HardSigmoid") return std::clamp(alpha * x + beta, 0.0, 1.0);
    if (name == "Elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "Softsign") return x / (1 + std::abs(x));
    if (name == "Softplus") return std::log1p(std::exp(x));
    ADD_FAILURE() << "no reference for " << name;
    return 0;
  }
};

struct RefOutputs {
  std::vector<double> y;       // [seq, dirs, batch, hidden]
  std::vector<double> y_h, y_c;  // [dirs, batch, hidden]
};

// Inputs in the ONNX layout-0 shapes (absent optional inputs: empty vectors).
struct RefInputs {
  std::vector<float> x, w, r, b, h0, c0, p;
};

inline std::vector<RefActivation> ref_activations(const RecurrentSpec& s) {
  std::vector<std::string> names = s.activations;
  if (names.empty()) {
    const std::vector<std::string> d = s.op == "RNN"   ? std::vector<std::string>{"Tanh"}
                                       : s.op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                       : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
    for (int64_t k = 0; k < s.dirs(); ++k) names.insert(names.end(), d.begin(), d.end());
  }
  // Parameters consumed in order by the activations that have them.
  size_t ai = 0, bi = 0;
  std::vector<RefActivation> out;
  for (const std::string& n : names) {
    RefActivation a{n};
    const bool has_alpha = n == "Affine" || n == "LeakyRelu" || n == "ThresholdedRelu" || n == "ScaledTanh" ||
                           n == "HardSigmoid" || n == "Elu";
    const bool has_beta = n == "Affine" || n == "ScaledTanh" || n == "HardSigmoid";
    const double default_alpha = n == "LeakyRelu" ? 0.01 : n == "HardSigmoid" ? 0.2 : 1.0;
    const double default_beta = n == "HardSigmoid" ? 0.5 : n == "Affine" ? 0.0 : 1.0;
    if (has_alpha) a.alpha = ai < s.alphas.size() ? s.alphas[ai++] : default_alpha;
    if (has_beta) a.beta = bi < s.betas.size() ? s.betas[bi++] : default_beta;
    out.push_back(a);
  }
  return out;
}

inline RefOutputs recurrent_reference(const RecurrentSpec& s, const RefInputs& in) {
  const int64_t T = s.seq, B = s.batch, I = s.input, H = s.hidden, D = s.dirs(), G = s.gates(), N = G * H;
  const std::vector<RefActivation> acts = ref_activations(s);
  RefOutputs out;
  out.y.assign(static_cast<size_t>(T * D * B * H), 0.0);
  out.y_h.assign(static_cast<size_t>(D * B * H), 0.0);
  out.y_c.assign(static_cast<size_t>(D * B * H), 0.0);
  auto f = [&](size_t k, double v) {
    if (s.clip) v = std::clamp(v, -double(*s.clip), double(*s.clip));
    return acts[k](v);
  };
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = s.direction == "reverse" || d == 1;
    const RefActivation* a = &acts[static_cast<size_t>(d) * s.per_direction()];
    const size_t a0 = static_cast<size_t>(d) * s.per_direction();
    (void)a;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(static_cast<size_t>(H), 0.0), c(static_cast<size_t>(H), 0.0);
      for (int64_t j = 0; j < H; ++j) {
        if (!in.h0.empty()) h[j] = in.h0[(d * B + b) * H + j];
        if (!in.c0.empty()) c[j] = in.c0[(d * B + b) * H + j];
      }
      const int64_t len = s.lens.empty() ? T : s.lens[b];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        // xw[g], hr[g]: gate row g's input and recurrent products plus biases.
        std::vector<double> xw(N), hr(N), wb(N, 0.0), rb(N, 0.0);
        for (int64_t g = 0; g < N; ++g) {
          double ax = 0, ah = 0;
          for (int64_t k = 0; k < I; ++k) ax += double(in.x[(t * B + b) * I + k]) * in.w[(d * N + g) * I + k];
          for (int64_t k = 0; k < H; ++k) ah += h[k] * in.r[(d * N + g) * H + k];
          if (!in.b.empty()) {
            wb[g] = in.b[d * 2 * N + g];
            rb[g] = in.b[d * 2 * N + N + g];
          }
          xw[g] = ax;
          hr[g] = ah;
        }
        std::vector<double> nh(H);
        if (s.op == "RNN") {
          for (int64_t j = 0; j < H; ++j) nh[j] = f(a0, xw[j] + hr[j] + wb[j] + rb[j]);
        } else if (s.op == "GRU") {
          std::vector<double> z(H), r(H);
          for (int64_t j = 0; j < H; ++j) {
            z[j] = f(a0, xw[j] + hr[j] + wb[j] + rb[j]);
            r[j] = f(a0, xw[H + j] + hr[H + j] + wb[H + j] + rb[H + j]);
          }
          for (int64_t j = 0; j < H; ++j) {
            double pre;
            if (s.linear_before_reset) {
              pre = xw[2 * H + j] + wb[2 * H + j] + r[j] * (hr[2 * H + j] + rb[2 * H + j]);
            } else {
              double rh = 0;
              for (int64_t k = 0; k < H; ++k) rh += r[k] * h[k] * in.r[(d * N + 2 * H + j) * H + k];
              pre = xw[2 * H + j] + rh + wb[2 * H + j] + rb[2 * H + j];
            }
            const double cand = f(a0 + 1, pre);
            nh[j] = (1 - z[j]) * cand + z[j] * h[j];
          }
        } else {
          auto peep = [&](int which, int64_t j, double cell) {
            return in.p.empty() ? 0.0 : in.p[d * 3 * H + which * H + j] * cell;
          };
          for (int64_t j = 0; j < H; ++j) {
            const double i = f(a0, xw[j] + hr[j] + wb[j] + rb[j] + peep(0, j, c[j]));
            const double fg = s.input_forget ? 1 - i : f(a0, xw[2 * H + j] + hr[2 * H + j] + wb[2 * H + j] + rb[2 * H + j] + peep(2, j, c[j]));
            const double cand = f(a0 + 1, xw[3 * H + j] + hr[3 * H + j] + wb[3 * H + j] + rb[3 * H + j]);
            c[j] = fg * c[j] + i * cand;
            const double o = f(a0, xw[H + j] + hr[H + j] + wb[H + j] + rb[H + j] + peep(1, j, c[j]));
            nh[j] = o * acts[a0 + 2](c[j]);
          }
        }
        h = nh;
        for (int64_t j = 0; j < H; ++j) out.y[((t * D + d) * B + b) * H + j] = h[j];
      }
      for (int64_t j = 0; j < H; ++j) {
        out.y_h[(d * B + b) * H + j] = h[j];
        out.y_c[(d * B + b) * H + j] = c[j];
      }
    }
  }
  return out;
}

}  // namespace onnx_mini::testing
