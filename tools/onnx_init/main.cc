// onnx-init: see cli.h. main only adapts argv; everything else is library code.
#include <iostream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "onnx_init/cli.h"

int main(int argc, char** argv) {
  // A SIGINT/SIGTERM/SIGHUP during -o's write leaves no temporary behind.
  onnx_mini::remove_temporaries_on_signals();
  std::vector<std::string> args(argv + 1, argv + argc);
  return onnx_mini::init::run_onnx_init(args, std::cout, std::cerr);
}
