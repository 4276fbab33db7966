// File names for tensors written into a folder (onnx-run --output-dir, and any
// later option that writes one file per tensor): one rule, in one place.
#pragma once

#include <string>
#include <vector>

namespace onnx_mini {

// A tensor name as a file name stem: '/', '\\' and control characters (NUL
// included) become '_', so a name can neither leave the folder nor put control
// sequences into a listing; an empty name becomes "_". Everything else stays
// (dots too: with the extension added, "." and ".." are ordinary file names).
std::string sanitized_file_stem(const std::string& name);

// One file name per tensor name, in order: the sanitised stem plus `extension`
// (e.g. ".npy"); when that is taken by an earlier one, stem_1, stem_2, ... (the
// first free), so names that sanitise alike ('a/b' and 'a_b') never overwrite
// each other and the same names always give the same files. Linear in the
// number of names.
std::vector<std::string> unique_file_names(const std::vector<std::string>& names, const std::string& extension);

}  // namespace onnx_mini
