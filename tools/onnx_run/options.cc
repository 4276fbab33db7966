#include "onnx_run/options.h"

#include <cstdlib>

namespace onnx_mini::onnx_run {
namespace {

Result<int64_t> parse_int(const std::string& flag, const std::string& text, int64_t min, int64_t max) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v >= min && v <= max) return static_cast<int64_t>(v);
  } catch (...) {
  }
  return usage_error(flag + " expects an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got '" + text + "'");
}

Result<double> parse_double(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (...) {
  }
  return usage_error(flag + " expects a non-negative number, got '" + text + "'");
}

Result<int64_t> parse_bytes(const std::string& flag, const std::string& text) {
  // 123, 64M, 2G
  if (text.empty()) return usage_error(flag + " expects a size like 512M or 4G");
  int64_t mult = 1;
  std::string digits = text;
  char last = text.back();
  if (last == 'K' || last == 'k') mult = int64_t{1} << 10;
  if (last == 'M' || last == 'm') mult = int64_t{1} << 20;
  if (last == 'G' || last == 'g') mult = int64_t{1} << 30;
  if (mult != 1) digits.pop_back();
  OM_ASSIGN_OR_RETURN(int64_t v, parse_int(flag, digits, 0, (int64_t{1} << 50) / mult));
  return v * mult;
}

Result<std::pair<std::string, std::string>> split_pair(const std::string& flag, const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return usage_error(flag + " expects NAME=VALUE, got '" + text + "'");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

}  // namespace

const char* usage_text() {
  return R"(usage: onnx-run MODEL.onnx [options]
Runs an ONNX model on the CPU. Without --input, inputs are generated from --seed
(float: uniform in [-1, 1); integer: 0, a valid index or label for any size; bool: random).

Inputs and outputs:
  --input NAME=FILE      feed input NAME from a .npy or TensorProto .pb file (repeatable)
  --dim NAME=VALUE       value of a symbolic dimension for generated inputs (default 1)
  --seed N               seed for generated inputs (default 0)
  --output-dir DIR       write every output as DIR/NAME.npy
Checking:
  --check [DIR]          run every DIR/test_data_set_*/ (default DIR: the model's folder) and
                         compare outputs: |got-ref| <= atol + rtol*|ref|; NaN matches NaN,
                         Inf must match exactly, integers exactly
  --atol X, --rtol X     tolerances (default 1e-5, 1e-4)
Performance and inspection:
  --threads N            threads the session computes on, OpenBLAS included (default: all cores)
  --repeat N             warm up (3 runs and 0.25 s), then time N runs; print median, p10, p90 latency
  --profile              per-op time table (with --repeat: over the timed runs)
  --stats                per node output: mean, std, min, max, zeros, NaN, Inf
                         (from a run of the graph as loaded, so every node of the model is shown)
  --json                 machine-readable report on stdout
Graph compiler:
  -O0, --no-optimize     run the graph as loaded
  -O1                    clean-ups and fusions (default)
  --explain              print one line per graph rewrite
  --save-optimized FILE  write the optimized graph as an ONNX model
Limits:
  --max-memory SIZE      cap on intermediate buffers, e.g. 512M, 4G (default 16G)
Other:
  --list-ops             print the registered ops (domain, op, since version)
  --help                 this text

Exit codes: 0 ok, 1 check mismatch, 2 usage error, 3 invalid model,
4 unsupported op/opset/dtype, 5 bad input data, 6 resource limit exceeded.
)";
}

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&](const std::string& flag) -> Result<std::string> {
      if (i + 1 >= args.size()) return usage_error(flag + " needs a value");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--input") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(auto kv, split_pair(a, v));
      for (const auto& given : o.inputs) {
        // One input fed twice is a slip; silently keeping the last file hides it.
        if (given.first == kv.first) {
          return usage_error("--input " + kv.first + " is given twice ('" + given.second + "' and '" + kv.second + "')");
        }
      }
      o.inputs.push_back(kv);
    } else if (a == "--dim") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(auto kv, split_pair(a, v));
      if (o.dims.count(kv.first)) return usage_error("--dim " + kv.first + " is given twice");
      OM_ASSIGN_OR_RETURN(o.dims[kv.first], parse_int(a, kv.second, 0, int64_t{1} << 32));
    } else if (a == "--seed") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(int64_t s, parse_int(a, v, 0, INT64_MAX));
      o.seed = static_cast<uint64_t>(s);
    } else if (a == "--output-dir") {
      OM_ASSIGN_OR_RETURN(o.output_dir, next(a));
    } else if (a == "--check") {
      o.check = true;
      if (i + 1 < args.size() && args[i + 1].rfind("-", 0) != 0 && !o.model.empty()) o.check_dir = args[++i];
    } else if (a == "--atol") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(o.atol, parse_double(a, v));
    } else if (a == "--rtol") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(o.rtol, parse_double(a, v));
    } else if (a == "--threads") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(int64_t t, parse_int(a, v, 1, 1024));
      o.threads = static_cast<int>(t);
    } else if (a == "--repeat") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(int64_t r, parse_int(a, v, 1, 100'000'000));
      o.repeat = static_cast<int>(r);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "-O0" || a == "--no-optimize") {
      o.opt_level = 0;
    } else if (a == "-O1") {
      o.opt_level = 1;
    } else if (a == "--explain") {
      o.explain = true;
    } else if (a == "--save-optimized") {
      OM_ASSIGN_OR_RETURN(o.save_optimized, next(a));
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--profile") {
      o.profile = true;
    } else if (a == "--list-ops") {
      o.list_ops = true;
    } else if (a == "--max-memory") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(o.max_memory, parse_bytes(a, v));
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "' (see --help)");
    } else if (o.model.empty()) {
      o.model = a;
    } else if (o.check && o.check_dir.empty()) {
      o.check_dir = a;
    } else {
      return usage_error("unexpected argument '" + a + "' (see --help)");
    }
  }
  if (!o.help && !o.list_ops && o.model.empty()) return usage_error("no model given (see --help)");
  return o;
}

}  // namespace onnx_mini::onnx_run
