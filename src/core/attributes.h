// Node attributes as read from the model, with typed accessors that apply the
// spec's default and report a wrong type as an error (never a silent default).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace onnx_mini {

struct Attribute {
  enum class Kind { kFloat, kInt, kString, kTensor, kFloats, kInts, kStrings, kGraph, kOther };
  Kind kind = Kind::kInt;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;

  static Attribute from_ints(std::vector<int64_t> v) {
    Attribute a;
    a.kind = Kind::kInts;
    a.ints = std::move(v);
    return a;
  }
};

const char* attribute_kind_name(Attribute::Kind k);

class Attributes {
 public:
  void set(const std::string& name, Attribute a) { map_[name] = std::move(a); }
  bool has(const std::string& name) const { return map_.count(name) != 0; }
  const Attribute* find(const std::string& name) const;
  const std::map<std::string, Attribute>& all() const { return map_; }
  void erase(const std::string& name) { map_.erase(name); }

  // Optional attributes: the default when absent, an error when of another type.
  Result<int64_t> get_int(const std::string& name, int64_t default_value) const;
  Result<float> get_float(const std::string& name, float default_value) const;
  Result<std::string> get_string(const std::string& name, const std::string& default_value) const;
  Result<std::vector<int64_t>> get_ints(const std::string& name, std::vector<int64_t> default_value = {}) const;
  Result<std::vector<float>> get_floats(const std::string& name, std::vector<float> default_value = {}) const;
  // Required attributes: an error when absent.
  Result<int64_t> require_int(const std::string& name) const;
  Result<std::vector<int64_t>> require_ints(const std::string& name) const;
  Result<Tensor> require_tensor(const std::string& name) const;

 private:
  Result<const Attribute*> typed(const std::string& name, Attribute::Kind kind) const;
  std::map<std::string, Attribute> map_;
};

}  // namespace onnx_mini
