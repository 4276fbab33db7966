// RNN: H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb), f = Tanh by default. The
// shared machinery (ops/recurrent.h) runs the projection and the products.
#include "ops/recurrent.h"

namespace onnx_mini {

const RecurrentOp kRnnOp{"RNN", /*gates=*/1, {"Tanh"}};

namespace {

class Rnn final : public RecurrentKernel {
 public:
  Status init(const NodeInfo& node) { return init_recurrent(node, kRnnOp, {{0, 1}}); }

 private:
  void step(const CellStep& s) const override {
    s.recurrent(0, s.h, s.hidden);
    const int64_t hs = s.hidden;
    for (int64_t i = 0; i < s.count; ++i) {
      const int64_t b = s.rows[i];
      float* g = s.hr + b * hs;
      const float* xw = s.xw[i];
      for (int64_t j = 0; j < hs; ++j) g[j] += xw[j];
      if (s.clip) clip_values(g, hs, *s.clip);
      s.act[0].apply(g, hs);
      std::copy(g, g + hs, s.h + b * hs);
    }
  }
};

}  // namespace

Result<std::unique_ptr<Kernel>> make_rnn_kernel(const NodeInfo& node) {
  auto k = std::make_unique<Rnn>();
  OM_RETURN_IF_ERROR(k->init(node));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace onnx_mini
