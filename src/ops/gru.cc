// GRU (gates z, r, h in that order in W, R and B; f = Sigmoid, g = Tanh):
//   z = f(X W_z^T + H R_z^T + Wb_z + Rb_z),  r likewise,
//   linear_before_reset = 0: h~ = g(X W_h^T + (r (.) H) R_h^T + Wb_h + Rb_h)
//   linear_before_reset = 1: h~ = g(X W_h^T + r (.) (H R_h^T + Rb_h) + Wb_h)
//   H' = (1 - z) (.) h~ + z (.) H.
// The default form needs r before the candidate's product, so R is packed as
// two parts (z and r's rows, h's rows) and a step runs two products; with
// linear_before_reset one product covers all three gates and adds Rb_h itself.
#include <algorithm>

#include "ops/recurrent.h"

namespace onnx_mini {

const RecurrentOp kGruOp{"GRU", /*gates=*/3, {"Sigmoid", "Tanh"}};

namespace {

class Gru final : public RecurrentKernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t lbr, node.attrs().get_int("linear_before_reset", 0));
    if (lbr != 0 && lbr != 1) return invalid_model("linear_before_reset must be 0 or 1, got " + std::to_string(lbr));
    linear_before_reset_ = lbr == 1;
    if (linear_before_reset_) return init_recurrent(node, kGruOp, {{0, 3}});
    return init_recurrent(node, kGruOp, {{0, 2}, {2, 3}});
  }

 private:
  void split_bias(const float* wb, const float* rb, int64_t n, float* input_bias, float* recurrent_bias,
                  bool* has_recurrent_bias) const override {
    if (!linear_before_reset_) {
      RecurrentKernel::split_bias(wb, rb, n, input_bias, recurrent_bias, has_recurrent_bias);
      return;
    }
    const int64_t h = n / 3;
    for (int64_t j = 0; j < n; ++j) input_bias[j] = j < 2 * h ? wb[j] + rb[j] : wb[j];
    for (int64_t j = 0; j < n; ++j) recurrent_bias[j] = j < 2 * h ? 0.0f : rb[j];
    *has_recurrent_bias = true;
  }

  // z and r of row b into g[0, 2h) (activated), from the products in g.
  void update_and_reset(const CellStep& s, float* g, const float* xw) const {
    const int64_t h2 = 2 * s.hidden;
    for (int64_t j = 0; j < h2; ++j) g[j] += xw[j];
    if (s.clip) clip_values(g, h2, *s.clip);
    s.act[0].apply(g, h2);
  }

  // H' = (1 - z) h~ + z H for row b, h~ in cand (pre-activation).
  void blend(const CellStep& s, const float* z, float* cand, float* state) const {
    const int64_t hs = s.hidden;
    if (s.clip) clip_values(cand, hs, *s.clip);
    s.act[1].apply(cand, hs);
    for (int64_t j = 0; j < hs; ++j) state[j] = (1.0f - z[j]) * cand[j] + z[j] * state[j];
  }

  void step(const CellStep& s) const override {
    const int64_t hs = s.hidden, n = 3 * hs;
    s.recurrent(0, s.h, hs);
    if (linear_before_reset_) {
      for (int64_t i = 0; i < s.count; ++i) {
        const int64_t b = s.rows[i];
        float* g = s.hr + b * n;
        const float* xw = s.xw[i];
        update_and_reset(s, g, xw);
        float* cand = g + 2 * hs;
        for (int64_t j = 0; j < hs; ++j) cand[j] = xw[2 * hs + j] + g[hs + j] * cand[j];
        blend(s, g, cand, s.h + b * hs);
      }
      return;
    }
    // r (.) H of every active row, then its product with R_h's rows.
    for (int64_t i = 0; i < s.count; ++i) {
      const int64_t b = s.rows[i];
      float* g = s.hr + b * n;
      update_and_reset(s, g, s.xw[i]);
      float* zr = s.work + b * n;  // [z | r (.) H]
      const float* state = s.h + b * hs;
      std::copy(g, g + hs, zr);
      for (int64_t j = 0; j < hs; ++j) zr[hs + j] = g[hs + j] * state[j];
    }
    s.recurrent(1, s.work + hs, n);
    for (int64_t i = 0; i < s.count; ++i) {
      const int64_t b = s.rows[i];
      float* cand = s.hr + b * n + 2 * hs;
      const float* xw = s.xw[i] + 2 * hs;
      for (int64_t j = 0; j < hs; ++j) cand[j] += xw[j];
      blend(s, s.work + b * n, cand, s.h + b * hs);
    }
  }

  bool linear_before_reset_ = false;
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_gru_kernel(const NodeInfo& node) {
  auto k = std::make_unique<Gru>();
  OM_RETURN_IF_ERROR(k->init(node));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace onnx_mini
