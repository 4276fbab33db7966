#include "onnx_run/check_all.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/printable.h"
#include "onnx_run/check.h"
#include "onnx_run/json.h"

namespace onnx_mini::onnx_run {
namespace fs = std::filesystem;
namespace {

struct CaseResult {
  std::string name;
  bool pass = false;
  int sets = 0, passed = 0;
  std::string error;        // why it could not be checked
  std::string check_json;   // run_checks' per-set array
};

Result<std::vector<fs::path>> case_folders(const std::string& dir) {
  std::vector<fs::path> cases;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::error_code file_ec;
    if (e.is_directory(file_ec) && fs::is_regular_file(e.path() / "model.onnx", file_ec)) cases.push_back(e.path());
  }
  if (ec) return usage_error("--check-all: cannot read folder '" + dir + "': " + ec.message());
  if (cases.empty()) return usage_error("--check-all: no case folder (DIR/NAME/model.onnx) in '" + dir + "'");
  std::sort(cases.begin(), cases.end());
  return cases;
}

// A case whose outputs cannot meet float32 tolerances (a float16 model) states
// its own in check_options.txt beside model.onnx: "--atol X --rtol Y" (as
// CTest passes them to --check).
Status read_case_tolerances(const fs::path& folder, Options& o) {
  std::ifstream in(folder / "check_options.txt");
  if (!in) return Status::ok();
  std::string flag, value;
  while (in >> flag) {
    if ((flag != "--atol" && flag != "--rtol") || !(in >> value)) {
      return usage_error("check_options.txt: only '--atol X' and '--rtol X' are read, got '" + printable(flag) + "'");
    }
    std::istringstream number(value);
    double v = 0;
    if (!(number >> v) || !number.eof() || !(v >= 0)) {
      return usage_error("check_options.txt: " + flag + " '" + printable(value) + "' is not a number >= 0");
    }
    (flag == "--atol" ? o.atol : o.rtol) = v;
  }
  return Status::ok();
}

CaseResult check_case(const fs::path& folder, const Options& options, const SessionOptions& so) {
  CaseResult r;
  r.name = folder.filename().string();
  Options o = options;
  o.model = (folder / "model.onnx").string();
  if (Status st = read_case_tolerances(folder, o); !st.is_ok()) {
    r.error = st.message();
    return r;
  }
  auto session = Session::load(o.model, so);
  if (!session.is_ok()) {
    r.error = session.status().message();
    return r;
  }
  auto report = run_checks(*session.value(), folder.string(), o);
  if (!report.is_ok()) {
    r.error = report.status().message();
    return r;
  }
  r.sets = report->sets;
  r.passed = report->passed;
  r.pass = r.sets == r.passed;
  r.check_json = report->json;
  return r;
}

std::string case_line(const CaseResult& r) {
  if (!r.error.empty()) return "FAIL  " + printable(r.name) + ": " + r.error;
  return std::string(r.pass ? "PASS  " : "FAIL  ") + printable(r.name) + ": " + std::to_string(r.passed) + " of " +
         std::to_string(r.sets) + " test data sets match";
}

std::string case_json(const CaseResult& r) {
  JsonObject j;
  j.add_string("case", r.name).add_bool("pass", r.pass);
  if (!r.error.empty()) return j.add_string("error", r.error).str();
  return j.add_int("sets", r.sets).add_int("passed", r.passed).add_json("check", r.check_json).str();
}

}  // namespace

Result<int> check_all(const Options& options, const SessionOptions& so) {
  OM_ASSIGN_OR_RETURN(std::vector<fs::path> cases, case_folders(options.check_all));
  int passed = 0, failed = 0;
  JsonArray json;
  for (const fs::path& folder : cases) {
    const CaseResult r = check_case(folder, options, so);
    (r.pass ? passed : failed) += 1;
    if (options.json) {
      json.add_json(case_json(r));
    } else {
      std::cout << terminal_safe(case_line(r)) << std::endl;  // flushed: a long run shows its progress
    }
  }
  if (options.json) {
    std::cout << JsonObject().add_string("check_all", options.check_all).add_json("cases", json.str()).add_int("passed", passed)
                     .add_int("failed", failed).str() << "\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  return failed == 0 ? 0 : static_cast<int>(ErrorCode::kCheckMismatch);
}

}  // namespace onnx_mini::onnx_run
