// Loading a model file without copying its weights twice.
//
// libprotobuf copies every `bytes` field while parsing (no aliasing for
// onnx-proto's std::string fields), so reading a 200 MB model and parsing it
// costs two full copies and twice the weights in memory at peak. Instead the
// file is memory-mapped and its wire format scanned: large initializer raw_data
// payloads are cut out of a small copy of the model that protobuf then parses,
// and each payload is used in place from the mapping (or read once into aligned
// memory when its file offset is not aligned for its element type).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace onnx_mini {

// A read-only mapping of a whole file; also keeps the descriptor for pread.
struct MappedFile {
  int fd = -1;
  const char* data = nullptr;
  size_t size = 0;
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
  void close_fd();  // after loading: tensors keep the mapping, not the descriptor
  // Unmaps the pages parsing touched (they read back from the file when a
  // tensor is used in place), so they do not add to the peak while the
  // session packs its weights.
  void drop_resident_pages() const;
};

// One initializer's raw_data left in the file: bytes [offset, offset + length).
struct MappedRawData {
  std::shared_ptr<const MappedFile> file;
  int64_t offset = 0;
  int64_t length = 0;
};

struct StrippedModel {
  std::string bytes;  // the model without the cut-out payloads, for ParseFromString
  // Per graph initializer, in file order: where its raw_data payload is, if cut out.
  std::vector<std::optional<MappedRawData>> initializer_raw;
};

// Cuts raw_data payloads of at least min_bytes out of the top-level graph's
// initializers. nullopt when the bytes are not wire format this scanner handles
// (groups, truncation, a repeated raw_data field, ...): the caller then parses
// the whole file, so malformed models are still reported by the validating parser.
std::optional<StrippedModel> strip_large_raw_data(const std::shared_ptr<const MappedFile>& file, size_t min_bytes);

// How deep the graphs of a serialized ModelProto nest through subgraph attributes
// (If/Loop/Scan bodies): `graphs` counts the graphs (the main graph is 1),
// `messages` the protobuf messages on the deepest such path (the model is 1).
// For explaining a parse failure: libprotobuf refuses messages nested more than
// 100 deep without saying why. Malformed bytes end the walk of their message.
struct NestingDepth {
  int graphs = 0;
  int messages = 0;
};
NestingDepth subgraph_nesting_depth(const char* data, size_t size);
// The first top-level field that is not well-formed wire format: its byte
// offset (-1 when every top-level field is well-formed), and whether it would
// be if the file went on (the file was cut inside it).
struct MalformedField {
  int64_t offset = -1;
  bool runs_past_end = false;
};
MalformedField first_malformed_field(const char* data, size_t size);

}  // namespace onnx_mini
