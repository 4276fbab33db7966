#include "runtime/io/output_file_names.h"

#include <unordered_map>
#include <unordered_set>

namespace onnx_mini {

std::string sanitized_file_stem(const std::string& name) {
  if (name.empty()) return "_";
  std::string stem = name;
  for (char& c : stem) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\' || b < 0x20 || b == 0x7F) c = '_';
  }
  return stem;
}

std::vector<std::string> unique_file_names(const std::vector<std::string>& names, const std::string& extension) {
  std::vector<std::string> files;
  files.reserve(names.size());
  std::unordered_set<std::string> taken;
  // Per stem, the next number worth trying: each number is passed over at most
  // once, so many names with one stem stay linear.
  std::unordered_map<std::string, int64_t> next_number;
  for (const std::string& name : names) {
    const std::string stem = sanitized_file_stem(name);
    std::string file = stem + extension;
    if (taken.count(file)) {
      int64_t& k = next_number.try_emplace(stem, 1).first->second;
      do {
        file = stem + "_" + std::to_string(k++) + extension;
      } while (taken.count(file));
    }
    taken.insert(file);
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace onnx_mini
