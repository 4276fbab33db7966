// Command-line options of onnx-run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace onnx_mini::onnx_run {

struct Options {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;  // NAME=FILE, or {"", FILE.npz}
  // --check-output NAME=FILE.npy, or {"", FILE.npz}: references for one run.
  std::vector<std::pair<std::string, std::string>> check_outputs;
  std::map<std::string, int64_t> dims;                      // --dim NAME=VALUE
  uint64_t seed = 0;
  std::string output_dir;
  std::string save_inputs;  // --save-inputs DIR
  std::string dump_all;     // --dump-all DIR
  std::string check_all;    // --check-all DIR (no model)
  bool check = false;
  std::string check_dir;  // empty: the model's folder
  double atol = 1e-5, rtol = 1e-4;
  int threads = 0;
  int repeat = 0;
  bool json = false;
  int opt_level = 1;
  bool explain = false;
  std::string save_optimized;
  bool portable = false;  // --save-optimized writes standard ONNX ops only
  bool stats = false;
  bool profile = false;
  std::string profile_file;  // --profile-file F: Chrome trace-event JSON
  bool verbose = false;
  bool list_ops = false;
  bool help = false;
  bool version = false;
  bool inspect = false;
  int64_t max_memory = int64_t{16} << 30;
  int64_t max_loop_iterations = int64_t{1} << 24;
  int print_values = 8;          // leading values printed per output (text)
  int64_t json_values = 1024;    // values per output in --json before the rest is left out
  bool all_values = false;       // --all-values: every value, text and JSON
};

Result<Options> parse_options(int argc, char** argv);
const char* usage_text();

}  // namespace onnx_mini::onnx_run
