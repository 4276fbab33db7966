#include "ops/recurrent_activation.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/attributes.h"
#include "ops/activation_functors.h"

namespace onnx_mini {
namespace {

template <typename Fn>
class SpanFnImpl final : public RecurrentActivation::SpanFn {
 public:
  explicit SpanFnImpl(Fn fn) : fn_(fn) {}
  void apply(float* x, int64_t n) const override {
    const Fn fn = fn_;  // a local copy keeps the parameters in registers
    for (int64_t i = 0; i < n; ++i) x[i] = fn(x[i]);
  }

 private:
  Fn fn_;
};

using SpanFnFactory = Result<std::shared_ptr<const RecurrentActivation::SpanFn>> (*)(const Attributes&);

template <typename Fn>
Result<std::shared_ptr<const RecurrentActivation::SpanFn>> make_span_fn(const Attributes& params) {
  Fn fn;
  OM_RETURN_IF_ERROR(fn.init(params));
  return std::shared_ptr<const RecurrentActivation::SpanFn>(std::make_shared<SpanFnImpl<Fn>>(fn));
}

// One activation the recurrent ops name: which parameters it reads from the
// lists, and the default of each (nullopt: the parameter must be given).
struct Entry {
  const char* name;
  bool has_alpha, has_beta;
  std::optional<float> default_alpha, default_beta;
  SpanFnFactory make;
};

// The spec's list. Defaults are those of the ONNX op of the same name (the
// functors' own); Affine and ScaledTanh see ops/activation_functors.h.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = {
      {"Relu", false, false, {}, {}, make_span_fn<ReluFn>},
      {"Tanh", false, false, {}, {}, make_span_fn<TanhFn>},
      {"Sigmoid", false, false, {}, {}, make_span_fn<SigmoidFn>},
      {"Affine", true, true, 1.0f, 0.0f, make_span_fn<AffineFn>},
      {"LeakyRelu", true, false, 0.01f, {}, make_span_fn<LeakyReluFn>},
      {"ThresholdedRelu", true, false, 1.0f, {}, make_span_fn<ThresholdedReluFn>},
      {"ScaledTanh", true, true, std::nullopt, std::nullopt, make_span_fn<ScaledTanhFn>},
      {"HardSigmoid", true, true, 0.2f, 0.5f, make_span_fn<HardSigmoidFn>},
      {"Elu", true, false, 1.0f, {}, make_span_fn<EluFn>},
      {"Softsign", false, false, {}, {}, make_span_fn<SoftsignFn>},
      {"Softplus", false, false, {}, {}, make_span_fn<SoftplusFn>},
  };
  return table;
}

bool same_name(const std::string& a, const char* b) {
  const std::string bs = b;
  return a.size() == bs.size() && std::equal(a.begin(), a.end(), bs.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

const Entry* find_entry(const std::string& name) {
  for (const Entry& e : entries()) {
    if (same_name(name, e.name)) return &e;
  }
  return nullptr;
}

// Reads one parameter from its list (advancing the cursor) or its default.
class ParamCursor {
 public:
  ParamCursor(const std::vector<float>& values, const char* attribute) : values_(values), attribute_(attribute) {}
  Status take(const Entry& e, const char* param, std::optional<float> fallback, Attributes& into) {
    float v;
    if (next_ < values_.size()) {
      v = values_[next_++];
    } else if (fallback) {
      v = *fallback;
    } else {
      return invalid_model(std::string("activation ") + e.name + " needs its " + param + " in " + attribute_ +
                           " (it has no default)");
    }
    Attribute a;
    a.kind = Attribute::Kind::kFloat;
    a.f = v;
    into.set(param, a);
    return Status::ok();
  }
  Status check_all_used() const {
    if (next_ == values_.size()) return Status::ok();
    return invalid_model(std::string(attribute_) + " has " + std::to_string(values_.size()) +
                         " values, but the activations use " + std::to_string(next_));
  }

 private:
  const std::vector<float>& values_;
  const char* attribute_;
  size_t next_ = 0;
};

}  // namespace

std::vector<std::string> recurrent_activation_names() {
  std::vector<std::string> names;
  for (const Entry& e : entries()) names.push_back(e.name);
  return names;
}

Result<std::vector<RecurrentActivation>> parse_recurrent_activations(const std::vector<std::string>& names,
                                                                     const std::vector<float>& alphas,
                                                                     const std::vector<float>& betas) {
  ParamCursor alpha(alphas, "activation_alpha"), beta(betas, "activation_beta");
  std::vector<RecurrentActivation> out;
  for (const std::string& name : names) {
    const Entry* e = find_entry(name);
    if (!e) {
      std::string known;
      for (const std::string& n : recurrent_activation_names()) known += (known.empty() ? "" : ", ") + n;
      return unsupported("activation '" + name + "' is not supported (supported: " + known + ")");
    }
    Attributes params;
    if (e->has_alpha) OM_RETURN_IF_ERROR(alpha.take(*e, "alpha", e->default_alpha, params));
    if (e->has_beta) OM_RETURN_IF_ERROR(beta.take(*e, "beta", e->default_beta, params));
    RecurrentActivation act;
    act.name_ = e->name;
    OM_ASSIGN_OR_RETURN(act.fn_, e->make(params));
    out.push_back(std::move(act));
  }
  OM_RETURN_IF_ERROR(alpha.check_all_used());
  OM_RETURN_IF_ERROR(beta.check_all_used());
  return out;
}

}  // namespace onnx_mini
