#include "onnx_run/inputs.h"

#include <unordered_set>

#include "core/printable.h"
#include "core/half.h"
#include "runtime/io/tensor_file.h"

namespace onnx_mini::onnx_run {
namespace {

// SplitMix64: tiny, fast, and the same sequence on every platform.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Tensor generate_tensor(DataType dtype, const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::allocate(dtype, shape);  // zero-filled: integers stay 0
  uint64_t state = seed;
  const int64_t n = t.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    uint64_t r = splitmix64(state);
    double u = static_cast<double>(r >> 11) * 0x1.0p-53 * 2.0 - 1.0;  // [-1, 1)
    if (dtype == DataType::kFloat) t.data<float>()[i] = static_cast<float>(u);
    if (dtype == DataType::kDouble) t.data<double>()[i] = u;
    // 16-bit floats: the float32 value rounded once (to nearest even).
    if (dtype == DataType::kFloat16) t.data<uint16_t>()[i] = float_to_half(static_cast<float>(u));
    if (dtype == DataType::kBFloat16) t.data<uint16_t>()[i] = float_to_bfloat16(static_cast<float>(u));
    if (dtype == DataType::kBool) t.data<bool>()[i] = (r & 1) != 0;
  }
  return t;
}

Result<std::vector<NamedTensor>> prepare_inputs(const Session& session, const Options& options) {
  std::vector<NamedTensor> inputs;
  for (const auto& [name, path] : options.inputs) {
    auto f = read_tensor_file(path);
    // The file's own problem (its message names it), for this model input.
    if (!f.is_ok()) return f.status().with_context(options.model + ": input " + quote(name) + ": ");
    // Checked here, not only by run(), so the message can name the file too.
    OM_RETURN_IF_ERROR(session.check_input(name, f->tensor, "from " + path).with_context(options.model + ": "));
    inputs.push_back({name, std::move(f->tensor)});
  }
  // A set, not a scan of `inputs` per model input: linear in the number of inputs.
  std::unordered_set<std::string> given;
  for (const auto& in : inputs) given.insert(in.name);
  uint64_t seed = options.seed;
  for (ValueId id : session.input_ids()) {
    const Value& v = session.value(id);
    if (given.count(v.name) || v.initializer) continue;
    Shape shape;
    for (const Dim& d : v.info.dims) {
      if (d.known()) {
        shape.push_back(d.value);
      } else {
        auto it = options.dims.find(d.param);
        shape.push_back(it == options.dims.end() ? 1 : it->second);
      }
    }
    const std::string where = options.model + ": input " + quote(v.name);
    if (!v.info.has_shape) return bad_input(where + " has no declared shape, so it cannot be generated: give it with --input");
    auto n = checked_num_elements(shape);
    if (!n.is_ok()) return bad_input(where + ": " + n.status().message());
    if (!dtype_is_supported(v.info.dtype)) {
      return unsupported(where + ": cannot generate " + dtype_name(v.info.dtype) + " values; give it with --input");
    }
    inputs.push_back({v.name, generate_tensor(v.info.dtype, shape, seed++)});
  }
  return inputs;
}

}  // namespace onnx_mini::onnx_run
