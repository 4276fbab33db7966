#include "ops/conv_epilogue.h"

#include <algorithm>

#include "ops/activation_list.h"

namespace onnx_mini {
namespace {

using ConvEpilogueFactory = Result<std::unique_ptr<ConvEpilogue>> (*)(const Attributes& params);

struct ConvActivationEntry {
  FusedActivationInfo info;
  ConvEpilogueFactory make;
};

template <typename Fn>
Result<std::unique_ptr<ConvEpilogue>> make_impl(const Attributes& params) {
  Fn fn;
  OM_RETURN_IF_ERROR(fn.init(params));
  return std::unique_ptr<ConvEpilogue>(std::make_unique<ConvEpilogueImpl<Fn>>(fn));
}

// Clip's bounds are inputs from version 11; the fusion takes them when they
// are constants, and versions 6 and 11+ clamp alike.
constexpr int kClipFusableSince = 6;

const std::vector<ConvActivationEntry>& table() {
  static const std::vector<ConvActivationEntry> t = [] {
    std::vector<ConvActivationEntry> entries;
    for_each_activation([&entries](const ActivationSpec& spec, auto fn) {
      if (spec.fusable_since == 0) return;
      entries.push_back({{spec.op_type, spec.fusable_since, spec.params}, make_impl<decltype(fn)>});
    });
    entries.push_back({{"Clip", kClipFusableSince, {"min", "max"}}, make_impl<ClipFn>});
    return entries;
  }();
  return t;
}

}  // namespace

const FusedActivationInfo* find_conv_activation(const std::string& op_type) {
  for (const auto& e : table()) {
    if (e.info.op_type == op_type) return &e.info;
  }
  return nullptr;
}

std::string conv_activation_names() {
  std::string names;
  for (const auto& e : table()) names += (names.empty() ? "" : ", ") + e.info.op_type;
  return names;
}

Result<std::unique_ptr<ConvEpilogue>> make_conv_epilogue(const std::string& activation, const Attributes& params) {
  if (activation.empty()) {
    if (!params.all().empty()) return invalid_model("activation parameters given without an activation");
    return make_impl<IdentityFn>(params);
  }
  for (const auto& e : table()) {
    if (e.info.op_type != activation) continue;
    for (const auto& [name, a] : params.all()) {
      if (std::find(e.info.params.begin(), e.info.params.end(), name) == e.info.params.end()) {
        return invalid_model("attribute 'activation_" + name + "' is not a parameter of " + activation);
      }
    }
    return e.make(params);
  }
  return unsupported("FusedConv activation '" + activation + "' is not supported (supported: " + conv_activation_names() +
                     ")");
}

}  // namespace onnx_mini
