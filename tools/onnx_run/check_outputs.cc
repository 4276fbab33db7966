#include "onnx_run/check_outputs.h"

#include "core/printable.h"
#include "runtime/io/tensor_file.h"
#include "onnx_run/check.h"
#include "onnx_run/json.h"
#include "onnx_run/npz_file.h"

namespace onnx_mini::onnx_run {
namespace {

struct Reference {
  NamedTensor tensor;
  std::string source;
};

// Every reference of --check-output, in the order given (archives member by member).
Result<std::vector<Reference>> read_references(const Options& options) {
  std::vector<Reference> refs;
  for (const auto& [name, path] : options.check_outputs) {
    if (name.empty()) {
      auto members = read_npz_file(path);
      if (!members.is_ok()) return members.status().with_context("--check-output: ");
      for (NamedTensor& m : members.value()) {
        std::string source = path + " member " + quote(m.name);
        refs.push_back({std::move(m), std::move(source)});
      }
      continue;
    }
    auto f = read_tensor_file(path);
    if (!f.is_ok()) return f.status().with_context("--check-output " + quote(name) + ": ");
    refs.push_back({{name, std::move(f->tensor)}, path});
  }
  return refs;
}

Result<size_t> output_index(const Session& session, const Reference& ref) {
  const auto& ids = session.output_ids();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (session.value(ids[i]).name == ref.tensor.name) return i;
  }
  std::string names;
  for (ValueId id : ids) names += (names.empty() ? "" : ", ") + quote(session.value(id).name);
  return usage_error("--check-output: " + ref.source + " names output " + quote(ref.tensor.name) +
                     ", which the model does not have (its outputs: " + names + ")");
}

}  // namespace

Result<OutputCheckReport> check_outputs(const Session& session, const std::vector<Tensor>& outputs, const Options& options) {
  OM_ASSIGN_OR_RETURN(std::vector<Reference> refs, read_references(options));
  OutputCheckReport report;
  JsonArray json;
  std::vector<std::string> seen;
  for (const Reference& ref : refs) {
    OM_ASSIGN_OR_RETURN(size_t index, output_index(session, ref));
    for (const std::string& s : seen) {
      if (s == ref.tensor.name) return usage_error("--check-output: output " + quote(s) + " has two references");
    }
    seen.push_back(ref.tensor.name);
    OM_ASSIGN_OR_RETURN(bool pass, check_one_output(ref.tensor.name, outputs[index], ref.tensor.tensor,
                                                    CheckedOutput{ref.source}, options, report.text, json));
    ++report.compared;
    report.passed += pass;
  }
  report.json = json.str();
  return report;
}

}  // namespace onnx_mini::onnx_run
