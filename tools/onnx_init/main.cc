// onnx-init: see cli.h. main only adapts argv; everything else is library code.
#include <iostream>
#include <string>
#include <vector>

#include "onnx_init/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return onnx_mini::init::run_onnx_init(args, std::cout, std::cerr);
}
