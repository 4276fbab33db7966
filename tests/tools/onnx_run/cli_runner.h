// Runs the real onnx-run binary for the CLI tests: exit code, stdout, stderr.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/testutil/model_builder.h"

namespace onnx_mini::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// `args` go through the shell as they are (quote what needs quoting). A run
// that hangs is ended after two minutes (exit 124 from timeout(1)).
inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  std::string dir = binary_dir() + "/test_tmp";
  std::filesystem::create_directories(dir);
  std::string out = dir + "/cli_out_" + std::to_string(::getpid()) + "_" + std::to_string(counter);
  std::string err = dir + "/cli_err_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  std::string cmd = "timeout -k 5 120 " + binary_dir() + "/tools/onnx_run/onnx-run " + args + " >" + out + " 2>" + err + " </dev/null";
  int status = std::system(cmd.c_str());
  CliResult r;
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  else r.code = -100;  // ended by a signal: always a bug
  r.out = read_all(out);
  r.err = read_all(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace onnx_mini::testing
