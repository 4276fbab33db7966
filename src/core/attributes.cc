#include "core/attributes.h"

#include "core/printable.h"

namespace onnx_mini {

const char* attribute_kind_name(Attribute::Kind k) {
  switch (k) {
    case Attribute::Kind::kFloat: return "float";
    case Attribute::Kind::kInt: return "int";
    case Attribute::Kind::kString: return "string";
    case Attribute::Kind::kTensor: return "tensor";
    case Attribute::Kind::kFloats: return "floats";
    case Attribute::Kind::kInts: return "ints";
    case Attribute::Kind::kStrings: return "strings";
    case Attribute::Kind::kGraph: return "graph";
    case Attribute::Kind::kOther: return "unsupported kind";
  }
  return "?";
}

const Attribute* Attributes::find(const std::string& name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second;
}

Result<const Attribute*> Attributes::typed(const std::string& name, Attribute::Kind kind) const {
  const Attribute* a = find(name);
  if (!a) return static_cast<const Attribute*>(nullptr);
  if (a->kind != kind) {
    return invalid_model("attribute " + quote(name) + " must be of type " + attribute_kind_name(kind) + ", got " +
                         attribute_kind_name(a->kind));
  }
  return a;
}

Result<int64_t> Attributes::get_int(const std::string& name, int64_t default_value) const {
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kInt));
  return a ? a->i : default_value;
}

Result<float> Attributes::get_float(const std::string& name, float default_value) const {
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kFloat));
  return a ? a->f : default_value;
}

Result<std::string> Attributes::get_string(const std::string& name, const std::string& default_value) const {
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kString));
  return a ? a->s : default_value;
}

Result<std::vector<int64_t>> Attributes::get_ints(const std::string& name, std::vector<int64_t> default_value) const {
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kInts));
  return a ? a->ints : default_value;
}

Result<std::vector<float>> Attributes::get_floats(const std::string& name, std::vector<float> default_value) const {
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kFloats));
  return a ? a->floats : default_value;
}

Result<int64_t> Attributes::require_int(const std::string& name) const {
  if (!has(name)) return invalid_model("missing required attribute " + quote(name));
  return get_int(name, 0);
}

Result<std::vector<int64_t>> Attributes::require_ints(const std::string& name) const {
  if (!has(name)) return invalid_model("missing required attribute " + quote(name));
  return get_ints(name);
}

Result<Tensor> Attributes::require_tensor(const std::string& name) const {
  if (!has(name)) return invalid_model("missing required attribute " + quote(name));
  OM_ASSIGN_OR_RETURN(const Attribute* a, typed(name, Attribute::Kind::kTensor));
  return a->t;
}

}  // namespace onnx_mini
