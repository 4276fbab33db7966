// The header of a NumPy .npy file: a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed as the literal it is, as numpy does (ast.literal_eval, then exactly
// the keys descr, fortran_order and shape), never by searching its text: a
// decoy such as {'x': "'fortran_order': False, ", 'fortran_order': True, ...}
// must not be read as C order.
#pragma once

#include <string>
#include <string_view>

#include "core/shape.h"
#include "core/status.h"

namespace onnx_mini {

struct NpyHeaderFields {
  std::string descr;           // e.g. "<f4"
  bool fortran_order = false;
  Shape shape;
};

// Accepts what numpy writes and the literal forms it reads back: strings in
// single or double quotes (escapes \\, \', \" only), True/False, tuples of
// non-negative decimal integers (a one-element tuple needs its comma, as in
// Python), optional trailing commas, whitespace. Anything else (another key,
// a key twice, a missing key, an unterminated dict, text after it) is a
// bad-input error whose message starts with `what` (the file).
Result<NpyHeaderFields> parse_npy_header(std::string_view text, const std::string& what);

}  // namespace onnx_mini
