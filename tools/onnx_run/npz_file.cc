#include "onnx_run/npz_file.h"

#include <zlib.h>

#include <cstring>
#include <limits>
#include <unordered_set>

#include "core/printable.h"
#include "core/regular_file.h"
#include "runtime/io/tensor_file.h"

namespace onnx_mini::onnx_run {
namespace {

constexpr int64_t kMaxArchiveBytes = int64_t{8} << 30;  // as a lone tensor file
constexpr int64_t kMaxMemberBytes = int64_t{8} << 30;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint16_t kStored = 0, kDeflated = 8;
constexpr uint32_t kZip64Marker = 0xffffffffu;

// Little-endian reads that cannot run past the archive: each checks its range.
class Reader {
 public:
  Reader(const std::string& bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  bool has(uint64_t offset, uint64_t size) const { return offset <= bytes_.size() && size <= bytes_.size() - offset; }
  Result<uint64_t> le(uint64_t offset, int width) const {
    if (!has(offset, static_cast<uint64_t>(width))) return error("a record runs past the end of the file");
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes_[offset + static_cast<uint64_t>(i)]);
    return v;
  }
  Status error(const std::string& why) const { return bad_input(what_ + ": malformed .npz: " + why); }
  const std::string& bytes() const { return bytes_; }

 private:
  const std::string& bytes_;
  const std::string& what_;
};

struct Directory {
  uint64_t entries = 0, offset = 0, size = 0;
};

struct Member {
  std::string name;
  uint16_t flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

// The end-of-central-directory record: the last one in the final 64 KiB + 22
// bytes (a comment may follow it), and its ZIP64 form when the counts overflow.
Result<Directory> find_directory(const Reader& r) {
  const uint64_t size = r.bytes().size();
  if (size < 22) return r.error("too short for a ZIP archive (" + std::to_string(size) + " bytes)");
  const uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (uint64_t at = size - 22 + 1; at-- > lowest;) {
    OM_ASSIGN_OR_RETURN(uint64_t sig, r.le(at, 4));
    if (sig != kEndOfCentralDirectory) continue;
    OM_ASSIGN_OR_RETURN(uint64_t disk, r.le(at + 4, 2));
    OM_ASSIGN_OR_RETURN(uint64_t dir_disk, r.le(at + 6, 2));
    if (disk != 0 || dir_disk != 0) return r.error("multi-disk archives are not supported");
    Directory d;
    OM_ASSIGN_OR_RETURN(d.entries, r.le(at + 10, 2));
    OM_ASSIGN_OR_RETURN(d.size, r.le(at + 12, 4));
    OM_ASSIGN_OR_RETURN(d.offset, r.le(at + 16, 4));
    if ((d.entries == 0xffff || d.offset == kZip64Marker || d.size == kZip64Marker) && at >= 20) {
      OM_ASSIGN_OR_RETURN(uint64_t locator, r.le(at - 20, 4));
      if (locator == kZip64EndLocator) {
        OM_ASSIGN_OR_RETURN(uint64_t end64, r.le(at - 20 + 8, 8));
        OM_ASSIGN_OR_RETURN(uint64_t sig64, r.le(end64, 4));
        if (sig64 != kZip64End) return r.error("the ZIP64 locator points at no ZIP64 directory record");
        OM_ASSIGN_OR_RETURN(d.entries, r.le(end64 + 32, 8));
        OM_ASSIGN_OR_RETURN(d.size, r.le(end64 + 40, 8));
        OM_ASSIGN_OR_RETURN(d.offset, r.le(end64 + 48, 8));
      }
    }
    if (!r.has(d.offset, d.size)) return r.error("the central directory lies outside the file");
    // Each central record takes at least 46 bytes: a count beyond that is a lie.
    if (d.entries > d.size / 46) return r.error("the central directory claims more members than it can hold");
    return d;
  }
  return r.error("no end-of-central-directory record (not a ZIP archive)");
}

// ZIP64 extra field (id 1): the 64-bit values of the fields set to 0xffffffff, in order.
Status apply_zip64_extra(const Reader& r, uint64_t extra, uint64_t extra_len, Member& m) {
  for (uint64_t at = extra; at + 4 <= extra + extra_len;) {
    OM_ASSIGN_OR_RETURN(uint64_t id, r.le(at, 2));
    OM_ASSIGN_OR_RETURN(uint64_t len, r.le(at + 2, 2));
    if (at + 4 + len > extra + extra_len) return r.error("member " + quote(m.name) + ": extra field runs past its record");
    if (id == 1) {
      uint64_t field = at + 4;
      for (uint64_t* v : {&m.uncompressed, &m.compressed, &m.local_offset}) {
        if (*v != kZip64Marker) continue;
        if (field + 8 > at + 4 + len) return r.error("member " + quote(m.name) + ": short ZIP64 extra field");
        OM_ASSIGN_OR_RETURN(*v, r.le(field, 8));
        field += 8;
      }
    }
    at += 4 + len;
  }
  return Status::ok();
}

Result<Member> read_central_record(const Reader& r, uint64_t& at) {
  OM_ASSIGN_OR_RETURN(uint64_t sig, r.le(at, 4));
  if (sig != kCentralHeader) return r.error("bad central directory record at byte " + std::to_string(at));
  Member m;
  OM_ASSIGN_OR_RETURN(uint64_t flags, r.le(at + 8, 2));
  OM_ASSIGN_OR_RETURN(uint64_t method, r.le(at + 10, 2));
  OM_ASSIGN_OR_RETURN(uint64_t crc, r.le(at + 16, 4));
  OM_ASSIGN_OR_RETURN(m.compressed, r.le(at + 20, 4));
  OM_ASSIGN_OR_RETURN(m.uncompressed, r.le(at + 24, 4));
  OM_ASSIGN_OR_RETURN(uint64_t name_len, r.le(at + 28, 2));
  OM_ASSIGN_OR_RETURN(uint64_t extra_len, r.le(at + 30, 2));
  OM_ASSIGN_OR_RETURN(uint64_t comment_len, r.le(at + 32, 2));
  OM_ASSIGN_OR_RETURN(m.local_offset, r.le(at + 42, 4));
  if (!r.has(at + 46, name_len + extra_len + comment_len)) return r.error("a central directory record runs past the file");
  m.flags = static_cast<uint16_t>(flags);
  m.method = static_cast<uint16_t>(method);
  m.crc = static_cast<uint32_t>(crc);
  m.name = r.bytes().substr(at + 46, name_len);
  OM_RETURN_IF_ERROR(apply_zip64_extra(r, at + 46 + name_len, extra_len, m));
  at += 46 + name_len + extra_len + comment_len;
  return m;
}

Status check_member(const Reader& r, const Member& m) {
  const std::string who = "member " + quote(m.name);
  if (m.flags & 1) return r.error(who + " is encrypted");
  if (m.method != kStored && m.method != kDeflated) {
    return r.error(who + ": compression method " + std::to_string(m.method) + " (only stored and deflate are supported)");
  }
  if (m.method == kStored && m.compressed != m.uncompressed) return r.error(who + ": stored, but its two sizes differ");
  if (m.uncompressed > static_cast<uint64_t>(kMaxMemberBytes)) {
    return resource_limit(who + " declares " + std::to_string(m.uncompressed) + " bytes, over the limit of " +
                          std::to_string(kMaxMemberBytes));
  }
  // Deflate cannot expand data more than 1032:1: a member claiming more is a
  // bomb or a lie, refused before its declared size is allocated.
  constexpr uint64_t kMaxDeflateRatio = 1032;
  if (m.method == kDeflated && m.uncompressed / kMaxDeflateRatio > m.compressed) {
    return r.error(who + " claims " + std::to_string(m.uncompressed) + " bytes from " + std::to_string(m.compressed) +
                   " compressed (more than deflate's 1032:1)");
  }
  const size_t suffix = 4;
  if (m.name.size() <= suffix || m.name.compare(m.name.size() - suffix, suffix, ".npy") != 0) {
    return r.error(who + " is not NAME.npy");
  }
  return Status::ok();
}

// Where the member's data starts: after its local header, whose name must agree.
Result<uint64_t> data_offset(const Reader& r, const Member& m) {
  const uint64_t at = m.local_offset;
  OM_ASSIGN_OR_RETURN(uint64_t sig, r.le(at, 4));
  if (sig != kLocalHeader) return r.error("member " + quote(m.name) + ": no local header where the directory says");
  OM_ASSIGN_OR_RETURN(uint64_t name_len, r.le(at + 26, 2));
  OM_ASSIGN_OR_RETURN(uint64_t extra_len, r.le(at + 28, 2));
  if (!r.has(at + 30, name_len) || r.bytes().compare(at + 30, name_len, m.name) != 0) {
    return r.error("member " + quote(m.name) + ": its local header names another file");
  }
  const uint64_t data = at + 30 + name_len + extra_len;
  if (!r.has(data, m.compressed)) return r.error("member " + quote(m.name) + ": its data runs past the end of the file");
  return data;
}

// Raw deflate (no zlib header), inflated to exactly the declared size.
Result<std::string> inflate_member(const Reader& r, const Member& m, uint64_t data) {
  std::string out(m.uncompressed, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return r.error("zlib could not start");
  uint64_t in_left = m.compressed, out_done = 0;
  int rc = Z_OK;
  const auto* in = reinterpret_cast<const Bytef*>(r.bytes().data() + data);
  z.next_in = const_cast<Bytef*>(in);
  while (rc == Z_OK) {
    const uInt in_chunk = static_cast<uInt>(std::min<uint64_t>(in_left, std::numeric_limits<uInt>::max()));
    const uInt out_room = static_cast<uInt>(std::min<uint64_t>(m.uncompressed - out_done, std::numeric_limits<uInt>::max()));
    z.avail_in = in_chunk;
    z.next_out = reinterpret_cast<Bytef*>(out.data() + out_done);
    z.avail_out = out_room;
    rc = inflate(&z, Z_NO_FLUSH);
    in_left -= in_chunk - z.avail_in;
    out_done += out_room - z.avail_out;
    // No progress possible: input exhausted or the declared size reached before the stream ended.
    if (rc == Z_OK && ((z.avail_in == 0 && in_left == 0) || (z.avail_out == 0 && out_done == m.uncompressed))) break;
    if (rc == Z_BUF_ERROR) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out_done != m.uncompressed) {
    return r.error("member " + quote(m.name) + ": its deflate data does not inflate to its declared " +
                   std::to_string(m.uncompressed) + " bytes");
  }
  return out;
}

Result<std::string> member_bytes(const Reader& r, const Member& m) {
  OM_ASSIGN_OR_RETURN(uint64_t data, data_offset(r, m));
  std::string bytes;
  if (m.method == kStored) {
    bytes = r.bytes().substr(data, m.compressed);
  } else {
    OM_ASSIGN_OR_RETURN(bytes, inflate_member(r, m, data));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < bytes.size();) {
    const uInt chunk = static_cast<uInt>(std::min<uint64_t>(bytes.size() - done, std::numeric_limits<uInt>::max()));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  if (static_cast<uint32_t>(crc) != m.crc) return r.error("member " + quote(m.name) + ": CRC-32 mismatch (corrupt data)");
  return bytes;
}

}  // namespace

bool is_npz_path(const std::string& path) { return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npz") == 0; }

Result<std::vector<NamedTensor>> parse_npz(const std::string& bytes, const std::string& what) {
  const Reader r(bytes, what);
  OM_ASSIGN_OR_RETURN(Directory dir, find_directory(r));
  std::vector<NamedTensor> tensors;
  std::unordered_set<std::string> names;
  uint64_t at = dir.offset;
  for (uint64_t i = 0; i < dir.entries; ++i) {
    OM_ASSIGN_OR_RETURN(Member m, read_central_record(r, at));
    if (at > dir.offset + dir.size) return r.error("a central directory record runs past the directory");
    OM_RETURN_IF_ERROR(check_member(r, m));
    std::string name = m.name.substr(0, m.name.size() - 4);
    if (!names.insert(name).second) return r.error("two members are named " + quote(m.name));
    OM_ASSIGN_OR_RETURN(std::string npy, member_bytes(r, m));
    OM_ASSIGN_OR_RETURN(Tensor t, parse_npy(npy, what + ": member " + quote(m.name)));
    tensors.push_back({std::move(name), std::move(t)});
  }
  if (tensors.empty()) return r.error("the archive holds no arrays");
  return tensors;
}

Result<std::vector<NamedTensor>> read_npz_file(const std::string& path) {
  auto bytes = read_regular_file(path, kMaxArchiveBytes);
  if (!bytes.is_ok()) return bad_input(bytes.status().message());
  return parse_npz(bytes.value(), path);
}

}  // namespace onnx_mini::onnx_run
