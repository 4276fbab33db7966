#include "graph/model_mapping.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace onnx_mini {
namespace {

// Protobuf field numbers (onnx.proto3) and wire types the scanner follows.
constexpr uint32_t kModelGraph = 7;         // ModelProto.graph
constexpr uint32_t kGraphInitializer = 5;   // GraphProto.initializer
constexpr uint32_t kTensorRawData = 9;      // TensorProto.raw_data
constexpr uint32_t kGraphNode = 1;          // GraphProto.node
constexpr uint32_t kNodeAttribute = 5;      // NodeProto.attribute
constexpr uint32_t kAttributeGraph = 6;     // AttributeProto.g
constexpr uint32_t kAttributeGraphs = 11;   // AttributeProto.graphs
constexpr uint32_t kWireVarint = 0, kWireFixed64 = 1, kWireLengthDelimited = 2, kWireFixed32 = 5;

using Byte = unsigned char;

bool read_varint(const Byte*& p, const Byte* end, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    Byte b = *p++;
    value |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

void write_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// One field of a message: bytes [start, end), payload [payload, end) when length-delimited.
struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  const Byte* start = nullptr;
  const Byte* payload = nullptr;
  const Byte* end = nullptr;
};

// Reads the field at p; false on anything but well-formed varint/fixed/length fields.
bool next_field(const Byte*& p, const Byte* end, Field& f) {
  f.start = p;
  uint64_t tag = 0;
  if (!read_varint(p, end, tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
  f.number = static_cast<uint32_t>(tag >> 3);
  f.wire = static_cast<uint32_t>(tag & 7);
  uint64_t skip = 0;
  switch (f.wire) {
    case kWireVarint: {
      uint64_t ignored;
      if (!read_varint(p, end, ignored)) return false;
      break;
    }
    case kWireFixed64: skip = 8; break;
    case kWireFixed32: skip = 4; break;
    case kWireLengthDelimited:
      if (!read_varint(p, end, skip)) return false;
      break;
    default: return false;  // groups: not in onnx.proto
  }
  if (skip > static_cast<uint64_t>(end - p)) return false;
  f.payload = p;
  p += skip;
  f.end = p;
  return true;
}

void append_length_delimited(std::string& out, uint32_t number, const std::string& payload) {
  write_varint(out, (static_cast<uint64_t>(number) << 3) | kWireLengthDelimited);
  write_varint(out, payload.size());
  out += payload;
}

class Stripper {
 public:
  Stripper(const std::shared_ptr<const MappedFile>& file, size_t min_bytes) : file_(file), min_bytes_(min_bytes) {}

  bool model(std::string& out) {
    const Byte* base = reinterpret_cast<const Byte*>(file_->data);
    return message(base, base + file_->size, out, [&](const Field& f, std::string& o) {
      if (f.number != kModelGraph || f.wire != kWireLengthDelimited) return copy(f, o);
      std::string g;
      if (!graph(f.payload, f.end, g)) return false;
      append_length_delimited(o, kModelGraph, g);
      return true;
    });
  }

  std::vector<std::optional<MappedRawData>> initializer_raw;

 private:
  template <typename OnField>
  static bool message(const Byte* p, const Byte* end, std::string& out, OnField on_field) {
    Field f;
    while (p < end) {
      if (!next_field(p, end, f) || !on_field(f, out)) return false;
    }
    return true;
  }
  static bool copy(const Field& f, std::string& out) {
    out.append(reinterpret_cast<const char*>(f.start), static_cast<size_t>(f.end - f.start));
    return true;
  }

  bool graph(const Byte* p, const Byte* end, std::string& out) {
    return message(p, end, out, [&](const Field& f, std::string& o) {
      if (f.number != kGraphInitializer || f.wire != kWireLengthDelimited) return copy(f, o);
      std::string t;
      std::optional<MappedRawData> raw;
      if (!tensor(f.payload, f.end, t, raw)) return false;
      append_length_delimited(o, kGraphInitializer, t);
      initializer_raw.push_back(std::move(raw));
      return true;
    });
  }

  bool tensor(const Byte* p, const Byte* end, std::string& out, std::optional<MappedRawData>& raw) {
    int raw_fields = 0;
    bool ok = message(p, end, out, [&](const Field& f, std::string& o) {
      if (f.number != kTensorRawData) return copy(f, o);
      // A repeated raw_data field means "last one wins": leave that to protobuf.
      if (f.wire != kWireLengthDelimited || ++raw_fields > 1) return false;
      const size_t length = static_cast<size_t>(f.end - f.payload);
      if (length < min_bytes_) return copy(f, o);
      raw = MappedRawData{file_, f.payload - reinterpret_cast<const Byte*>(file_->data), static_cast<int64_t>(length)};
      return true;
    });
    return ok;
  }

  std::shared_ptr<const MappedFile> file_;
  size_t min_bytes_;
};

}  // namespace

NestingDepth subgraph_nesting_depth(const char* data, size_t size) {
  // Iterative (an explicit stack): the bytes are the ones protobuf refused for
  // nesting too deep, so this walk must not recurse either.
  enum class Kind { kModel, kGraph, kNode, kAttribute };
  struct Open {
    const Byte* p;
    const Byte* end;
    Kind kind;
    int graphs;    // graphs enclosing this message, itself included
    int messages;  // message depth: the model is 1
  };
  NestingDepth deepest;
  const Byte* base = reinterpret_cast<const Byte*>(data);
  std::vector<Open> stack{{base, base + size, Kind::kModel, 0, 1}};
  while (!stack.empty()) {
    Open& top = stack.back();
    Field f;
    if (top.p >= top.end || !next_field(top.p, top.end, f)) {
      stack.pop_back();
      continue;
    }
    if (f.wire != kWireLengthDelimited) continue;
    std::optional<Kind> child;
    switch (top.kind) {
      case Kind::kModel: if (f.number == kModelGraph) child = Kind::kGraph; break;
      case Kind::kGraph: if (f.number == kGraphNode) child = Kind::kNode; break;
      case Kind::kNode: if (f.number == kNodeAttribute) child = Kind::kAttribute; break;
      case Kind::kAttribute:
        if (f.number == kAttributeGraph || f.number == kAttributeGraphs) child = Kind::kGraph;
        break;
    }
    if (!child) continue;
    Open next{f.payload, f.end, *child, top.graphs + (*child == Kind::kGraph ? 1 : 0), top.messages + 1};
    deepest.graphs = std::max(deepest.graphs, next.graphs);
    deepest.messages = std::max(deepest.messages, next.messages);
    stack.push_back(next);  // invalidates `top`: nothing reads it after this
  }
  return deepest;
}

MalformedField first_malformed_field(const char* data, size_t size) {
  const Byte* base = reinterpret_cast<const Byte*>(data);
  const Byte* p = base;
  const Byte* end = base + size;
  Field f;
  while (p < end) {
    if (next_field(p, end, f)) continue;
    // Would the field parse if the file went on? Then the file was cut inside it.
    std::vector<Byte> padded(f.start, end);
    size_t have = padded.size();
    padded.resize(have + 16, 0);
    const Byte* q = padded.data();
    uint64_t tag = 0, length = 0;
    bool past_end = read_varint(q, padded.data() + padded.size(), tag) && static_cast<size_t>(q - padded.data()) > have;
    if (!past_end && q <= padded.data() + have && (tag >> 3) != 0) {
      const Byte* after_tag = q;
      switch (tag & 7) {
        case kWireVarint: past_end = !read_varint(q, padded.data() + have, length); break;
        case kWireFixed64: past_end = have - static_cast<size_t>(after_tag - padded.data()) < 8; break;
        case kWireFixed32: past_end = have - static_cast<size_t>(after_tag - padded.data()) < 4; break;
        case kWireLengthDelimited:
          past_end = !read_varint(q, padded.data() + have, length) ||
                     length > have - static_cast<size_t>(q - padded.data());
          break;
        default: break;
      }
    }
    return MalformedField{f.start - base, past_end};
  }
  return MalformedField{};
}

MappedFile::~MappedFile() {
  if (data) munmap(const_cast<char*>(data), size);
  close_fd();
}

void MappedFile::drop_resident_pages() const {
  // The kernel maps whole large folios around each fault, so reading the
  // protobuf fields between payloads leaves megabytes of the file resident.
  if (data) madvise(const_cast<char*>(data), size, MADV_DONTNEED);
}

void MappedFile::close_fd() {
  if (fd >= 0) close(fd);
  fd = -1;
}

std::optional<StrippedModel> strip_large_raw_data(const std::shared_ptr<const MappedFile>& file, size_t min_bytes) {
  Stripper s(file, min_bytes);
  StrippedModel out;
  if (!s.model(out.bytes)) return std::nullopt;
  out.initializer_raw = std::move(s.initializer_raw);
  return out;
}

}  // namespace onnx_mini
