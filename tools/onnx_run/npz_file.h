// NumPy .npz archives (numpy.savez and savez_compressed): a ZIP file of
// NAME.npy members, each stored or deflate-compressed. Every member goes
// through the same strict .npy parser as a lone .npy file (parse_npy).
//
// A model's reference data is untrusted, and so is an archive: its central
// directory is checked against the file's size, every member's declared size
// is bounded before anything is allocated, inflation stops at the declared size
// (a member that inflates to more or less is refused), and each member's CRC-32
// must match. Encrypted members, other compression methods, multi-disk archives,
// names that are not NAME.npy and duplicate names are errors naming the archive
// and the member (exit 5, bad input).
#pragma once

#include <string>
#include <vector>

#include "runtime/session.h"

namespace onnx_mini::onnx_run {

// The members in archive order, each named without its .npy suffix.
Result<std::vector<NamedTensor>> read_npz_file(const std::string& path);
Result<std::vector<NamedTensor>> parse_npz(const std::string& bytes, const std::string& what);

bool is_npz_path(const std::string& path);

}  // namespace onnx_mini::onnx_run
