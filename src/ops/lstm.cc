// LSTM (gates i, o, f, c in that order in W, R and B; peepholes P in the
// order i, o, f; f = Sigmoid, g = h = Tanh by default):
//   i = f(X W_i^T + H R_i^T + P_i (.) C + Wb_i + Rb_i),  f likewise with P_f,
//   c~ = g(X W_c^T + H R_c^T + Wb_c + Rb_c),  C' = f (.) C + i (.) c~,
//   o = f(X W_o^T + H R_o^T + P_o (.) C' + Wb_o + Rb_o),  H' = o (.) h(C').
// input_forget = 1 couples the forget gate to the input gate: f = 1 - i.
// clip bounds each gate's activation input (peephole term included).
#include <algorithm>

#include "ops/recurrent.h"

namespace onnx_mini {

const RecurrentOp kLstmOp{"LSTM", /*gates=*/4, {"Sigmoid", "Tanh", "Tanh"}};

namespace {

class Lstm final : public RecurrentKernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t coupled, node.attrs().get_int("input_forget", 0));
    if (coupled != 0 && coupled != 1) return invalid_model("input_forget must be 0 or 1, got " + std::to_string(coupled));
    input_forget_ = coupled == 1;
    return init_recurrent(node, kLstmOp, {{0, 4}});
  }

 private:
  bool has_cell_state() const override { return true; }

  // The pre-activation x (hs values) plus the peephole term, clipped and activated.
  static void gate(const CellStep& s, float* x, const float* peephole, const float* cell, int activation) {
    const int64_t hs = s.hidden;
    if (peephole) {
      for (int64_t j = 0; j < hs; ++j) x[j] += peephole[j] * cell[j];
    }
    if (s.clip) clip_values(x, hs, *s.clip);
    s.act[activation].apply(x, hs);
  }

  void step(const CellStep& s) const override {
    const int64_t hs = s.hidden, n = 4 * hs;
    s.recurrent(0, s.h, hs);
    const float* p = s.peepholes;
    for (int64_t r = 0; r < s.count; ++r) {
      const int64_t b = s.rows[r];
      float* g = s.hr + b * n;
      const float* xw = s.xw[r];
      for (int64_t j = 0; j < n; ++j) g[j] += xw[j];
      float *in = g, *out = g + hs, *forget = g + 2 * hs, *cand = g + 3 * hs;
      float* cell = s.c + b * hs;
      gate(s, in, p, cell, 0);
      if (input_forget_) {
        for (int64_t j = 0; j < hs; ++j) forget[j] = 1.0f - in[j];
      } else {
        gate(s, forget, p ? p + 2 * hs : nullptr, cell, 0);
      }
      gate(s, cand, nullptr, nullptr, 1);
      for (int64_t j = 0; j < hs; ++j) cell[j] = forget[j] * cell[j] + in[j] * cand[j];
      gate(s, out, p ? p + hs : nullptr, cell, 0);
      float* state = s.h + b * hs;
      std::copy(cell, cell + hs, state);
      s.act[2].apply(state, hs);
      for (int64_t j = 0; j < hs; ++j) state[j] *= out[j];
    }
  }

  bool input_forget_ = false;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_lstm_kernel(const NodeInfo& node) {
  auto k = std::make_unique<Lstm>();
  OM_RETURN_IF_ERROR(k->init(node));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace onnx_mini
