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

bool ends_with_npz(const std::string& s) { return s.size() > 4 && s.compare(s.size() - 4, 4, ".npz") == 0; }

// NAME=FILE, or a lone FILE.npz whose members are named (name left empty).
Result<std::pair<std::string, std::string>> file_or_pair(const std::string& flag, const std::string& text) {
  if (text.find('=') == std::string::npos && ends_with_npz(text)) return std::make_pair(std::string(), text);
  if (text.find('=') == std::string::npos) return usage_error(flag + " expects NAME=FILE or FILE.npz, got '" + text + "'");
  OM_ASSIGN_OR_RETURN(auto kv, split_pair(flag, text));
  // An archive names its arrays itself; read as NAME=FILE it would be parsed as a TensorProto.
  if (ends_with_npz(kv.second)) {
    return usage_error(flag + " " + text + ": a .npz archive gives its arrays by member name; write " + flag + " " + kv.second);
  }
  return kv;
}

// One name (or one archive) given twice is a slip; silently keeping the last file hides it.
Status check_not_repeated(const std::string& flag, const std::vector<std::pair<std::string, std::string>>& given,
                          const std::pair<std::string, std::string>& kv) {
  for (const auto& g : given) {
    if (g.first == kv.first && (!kv.first.empty() || g.second == kv.second)) {
      return usage_error(flag + " " + (kv.first.empty() ? kv.second : kv.first) + " is given twice ('" + g.second + "' and '" +
                         kv.second + "')");
    }
  }
  return Status::ok();
}

// The options of one run (generated or given inputs, one set of outputs).
std::vector<std::string> run_options_given(const Options& o) {
  std::vector<std::string> given;
  if (!o.inputs.empty()) given.push_back("--input " + (o.inputs.front().first.empty() ? o.inputs.front().second : o.inputs.front().first));
  if (!o.check_outputs.empty()) given.push_back("--check-output");
  if (!o.output_dir.empty()) given.push_back("--output-dir");
  if (!o.save_inputs.empty()) given.push_back("--save-inputs");
  if (!o.dump_all.empty()) given.push_back("--dump-all");
  if (o.repeat > 0) given.push_back("--repeat");
  if (o.profile) given.push_back(o.profile_file.empty() ? "--profile" : "--profile-file");
  if (o.stats) given.push_back("--stats");
  if (o.all_values) given.push_back("--all-values");
  return given;
}

// --check, --check-all and --inspect do not make the one run the other options
// act on: such an option would be silently ignored (an --input file never
// read), which hides a slip, so the combination is a usage error.
Status check_combinations(const Options& o) {
  std::vector<std::string> conflicts = run_options_given(o);
  std::string mode, why;
  if (!o.check_all.empty()) {
    mode = "--check-all";
    why = "it runs each case's model on its test_data_set_*/ folders";
    if (!o.model.empty()) return usage_error("--check-all DIR runs DIR/*/model.onnx; it takes no model ('" + o.model + "')");
    if (o.check) conflicts.insert(conflicts.begin(), "--check");
    if (o.inspect) conflicts.insert(conflicts.begin(), "--inspect");
    if (!o.save_optimized.empty()) conflicts.insert(conflicts.begin(), "--save-optimized");
  } else if (o.inspect) {
    mode = "--inspect";
    why = "it describes the model without running it";
    if (o.check) conflicts.insert(conflicts.begin(), "--check");
    if (!o.save_optimized.empty()) conflicts.insert(conflicts.begin(), "--save-optimized");
  } else if (o.check) {
    mode = "--check";
    why = "it runs each test_data_set_*/ folder with its own inputs and references";
  }
  if (mode.empty() || conflicts.empty()) return Status::ok();
  return usage_error(conflicts.front() + " cannot be combined with " + mode + " (" + why + ")");
}

}  // namespace

const char* usage_text() {
  return R"(usage: onnx-run MODEL.onnx [options]
       onnx-run --check-all DIR [options]
Runs an ONNX model on the CPU. Without --input, inputs are generated from --seed
(float: uniform in [-1, 1); integer: 0, a valid index or label for any size; bool: random).

Inputs and outputs:
  --input NAME=FILE      feed input NAME from a .npy or TensorProto .pb file (repeatable)
  --input FILE.npz       feed every array of a NumPy .npz archive (stored or compressed)
                         to the input of its name
  --dim NAME=VALUE       value of a symbolic dimension for generated inputs (default 1)
  --seed N               seed for generated inputs (default 0)
  --output-dir DIR       write every output as DIR/NAME.npy
  --save-inputs DIR      write every fed input (given or generated) as DIR/NAME.npy,
                         to reproduce a run or feed another runtime
  --dump-all DIR         write every node output as DIR/VALUE.npy, from a run of the
                         graph as loaded (-O0, a second session), to find where two
                         runtimes diverge
  (file names: the value's name with '/', '\' and control characters as '_',
   numbered _1, _2 ... when two names give one file; each file is printed)
Checking:
  --check [DIR]          run every DIR/test_data_set_*/ (default DIR: the model's folder) and
                         compare outputs: |got-ref| <= atol + rtol*|ref|; NaN matches NaN,
                         Inf must match exactly, integers exactly
  --check-output NAME=FILE.npy
                         compare output NAME of this run (inputs from --input or
                         generated) with the array in FILE (repeatable)
  --check-output FILE.npz
                         the same for every array of a .npz archive, by name
  --check-all DIR        (no MODEL) run --check on every DIR/*/ case folder holding a
                         model.onnx and test_data_set_*/ (onnx_test_runner's layout):
                         one line per case, then "N passed, N failed"; exit 1 if any failed
  --atol X, --rtol X     tolerances (default 1e-5, 1e-4)
Inspection:
  --inspect              describe the model without running it: producer, IR version,
                         opsets, inputs/outputs, initializers and parameters, op
                         histogram, estimated FLOPs per run at the --dim values,
                         what the passes would rewrite, unsupported nodes (with --json)
Performance and inspection:
  --threads N            threads the session computes on, OpenBLAS included (default 0: all cores)
  --repeat N             warm up (3 runs and 0.25 s), then time N runs; print median, p10, p90 latency
                         (progress on a terminal; Ctrl-C stops and prints the runs so far, exit 130)
  --profile              time per node and per op type, in microseconds (with --repeat:
                         over the timed runs)
  --profile-file F       --profile, and every node run written to F as Chrome
                         trace-event JSON (chrome://tracing, ui.perfetto.dev)
  --stats                per node output: mean, std, min, max, zeros, NaN, Inf
                         (from a run of the graph as loaded, so every node of the model is shown)
  --json                 machine-readable report on stdout: each output's values (up to
                         1024; "values_left_out" says how many more), check results as
                         fields, and on failure {"error": {"exit_code", "kind", "message"}}
  --all-values           every value of every output (text and --json)
Graph compiler:
  -O0, --no-optimize     run the graph as loaded
  -O1                    clean-ups and fusions (default)
  --explain              print one line per graph rewrite
  -v, --verbose          on stderr: what loading did (IR version, producer, opsets),
                         every rewrite of the passes, the graph and plan sizes
  --save-optimized FILE  write the optimized graph as an ONNX model (fused ops in
                         onnx-mini's own domain, which only onnx-mini runs)
  --portable             with --save-optimized: every fused op expanded back to
                         standard ONNX ops, for ONNX Runtime, Netron, onnx.checker
Limits:
  --max-memory SIZE      cap on intermediate buffers, e.g. 512M, 4G (default 16G)
  --max-loop-iterations N  cap on If/Loop subgraph runs per run of a graph (default 16777216)
Other:
  --list-ops             print the registered ops (domain, op, since version)
  --version              print the version
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
      OM_ASSIGN_OR_RETURN(auto kv, file_or_pair(a, v));
      OM_RETURN_IF_ERROR(check_not_repeated(a, o.inputs, kv));
      o.inputs.push_back(kv);
    } else if (a == "--check-output") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(auto kv, file_or_pair(a, v));
      OM_RETURN_IF_ERROR(check_not_repeated(a, o.check_outputs, kv));
      o.check_outputs.push_back(kv);
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
    } else if (a == "--save-inputs") {
      OM_ASSIGN_OR_RETURN(o.save_inputs, next(a));
    } else if (a == "--dump-all") {
      OM_ASSIGN_OR_RETURN(o.dump_all, next(a));
    } else if (a == "--check-all") {
      OM_ASSIGN_OR_RETURN(o.check_all, next(a));
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
      // 0 is SessionOptions' default: OpenBLAS's own thread count (all cores).
      OM_ASSIGN_OR_RETURN(int64_t t, parse_int(a, v, 0, 1024));
      o.threads = static_cast<int>(t);
    } else if (a == "--repeat") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(int64_t r, parse_int(a, v, 1, 100'000'000));
      o.repeat = static_cast<int>(r);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--all-values") {
      o.all_values = true;
    } else if (a == "-O0" || a == "--no-optimize") {
      o.opt_level = 0;
    } else if (a == "-O1") {
      o.opt_level = 1;
    } else if (a == "--explain") {
      o.explain = true;
    } else if (a == "--save-optimized") {
      OM_ASSIGN_OR_RETURN(o.save_optimized, next(a));
    } else if (a == "--portable") {
      o.portable = true;
    } else if (a == "--inspect") {
      o.inspect = true;
    } else if (a == "--version") {
      o.version = true;
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "--profile") {
      o.profile = true;
    } else if (a == "--profile-file") {
      OM_ASSIGN_OR_RETURN(o.profile_file, next(a));
      o.profile = true;
    } else if (a == "--verbose" || a == "-v") {
      o.verbose = true;
    } else if (a == "--list-ops") {
      o.list_ops = true;
    } else if (a == "--max-memory") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(o.max_memory, parse_bytes(a, v));
    } else if (a == "--max-loop-iterations") {
      OM_ASSIGN_OR_RETURN(std::string v, next(a));
      OM_ASSIGN_OR_RETURN(o.max_loop_iterations, parse_int(a, v, 1, INT64_MAX));
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
  if (o.help || o.version || o.list_ops) return o;
  if (o.check_all.empty() && o.model.empty()) return usage_error("no model given (see --help)");
  OM_RETURN_IF_ERROR(check_combinations(o));
  if (o.portable && o.save_optimized.empty()) return usage_error("--portable applies to --save-optimized FILE, which is not given");
  return o;
}

}  // namespace onnx_mini::onnx_run
