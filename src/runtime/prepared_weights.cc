#include "runtime/prepared_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>

namespace onnx_mini {
namespace {

uintptr_t page_size() {
  static const uintptr_t size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  return size;
}

// Gives the pages of [begin, end) back: a file mapping's are read again from
// the file if touched, anonymous memory's read as zeros (callers only do that
// to memory nothing will read).
void drop_pages(uintptr_t begin, uintptr_t end) {
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// Drops the pages of a weight behind the packing walk, in steps of at least
// kStep (one madvise per 32-row panel would be thousands of calls for a large
// weight) and, for file pages, whole at the end.
class PageReleaser {
 public:
  PageReleaser(const Tensor& t, bool file_backed)
      : begin_(reinterpret_cast<uintptr_t>(t.raw_data())), end_(begin_ + t.byte_size()), file_backed_(file_backed) {
    // Anonymous memory: only pages wholly inside the tensor (its neighbours
    // may be live). File pages can be dropped whole: they read back from the file.
    released_ = file_backed_ ? begin_ / page_size() * page_size() : round_up(begin_);
  }
  void consumed(const float* end) {
    const uintptr_t upto = reinterpret_cast<uintptr_t>(end) / page_size() * page_size();
    if (upto >= released_ + kStep) {
      drop_pages(released_, upto);
      released_ = upto;
    }
  }
  void finish() {
    drop_pages(released_, file_backed_ ? round_up(end_) : end_ / page_size() * page_size());
  }

 private:
  static constexpr uintptr_t kStep = uintptr_t{1} << 20;
  static uintptr_t round_up(uintptr_t p) { return (p + page_size() - 1) / page_size() * page_size(); }
  uintptr_t begin_, end_, released_;
  bool file_backed_;
};

// Per value: whether some kernel reads it during runs.
std::vector<char> values_read_at_run(const Graph& g, const std::vector<std::pair<NodeId, const Kernel*>>& kernels) {
  std::vector<char> read(g.num_values(), 0);
  for (const auto& [id, kernel] : kernels) {
    const Node& n = g.node(id);
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      if (n.inputs[i] != kNoId && kernel->reads_input_at_run(static_cast<int>(i))) {
        read[static_cast<size_t>(n.inputs[i])] = 1;
      }
    }
  }
  return read;
}

// The initializer each request's storage belongs to (first by value id when
// two initializers share storage), built once: a request is matched in O(log n).
std::map<std::pair<const void*, Shape>, ValueId> initializers_by_storage(const Graph& g) {
  std::map<std::pair<const void*, Shape>, ValueId> by_storage;
  for (size_t v = 0; v < g.num_values(); ++v) {
    const Value& val = g.value(static_cast<ValueId>(v));
    if (val.initializer) by_storage.emplace(std::make_pair(val.initializer->raw_data(), val.initializer->shape()), static_cast<ValueId>(v));
  }
  return by_storage;
}

// The initializer's values again, from one packing of it (in whichever layout).
std::function<Tensor()> unpacker(PackedWeightRequests::Request request, Shape shape) {
  request.source = Tensor();  // only the layout and the packed handle are needed
  return [request = std::move(request), shape = std::move(shape)] {
    return PackedWeightRequests::unpack(request, shape);
  };
}

}  // namespace

bool in_read_only_file_mapping(const void* p, size_t bytes) {
  FILE* maps = std::fopen("/proc/self/maps", "re");
  if (!maps) return false;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p), end = begin + bytes;
  bool found = false;
  char line[4096];
  while (!found && std::fgets(line, sizeof line, maps)) {
    uintptr_t lo = 0, hi = 0;
    char perms[8] = {};
    unsigned long long offset = 0, inode = 0;
    unsigned dev_major = 0, dev_minor = 0;
    if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s %llx %x:%x %llu", &lo, &hi, perms, &offset, &dev_major,
                    &dev_minor, &inode) != 7) {
      continue;
    }
    if (begin >= lo && end <= hi) found = inode != 0 && perms[1] == '-';
    if (begin >= lo && begin < hi) break;  // the mapping holding p: decided
  }
  std::fclose(maps);
  return found;
}

PreparedWeightStats prepare_weights(Graph& g, const std::vector<std::pair<NodeId, const Kernel*>>& kernels,
                                    PackedWeightRequests& requests) {
  PreparedWeightStats stats;
  const std::vector<char> read_at_run = values_read_at_run(g, kernels);
  const auto by_storage = initializers_by_storage(g);
  auto& reqs = requests.requests();
  for (size_t r = 0; r < reqs.size(); ++r) {
    PackedWeightRequests::Request& req = reqs[r];
    const auto found = by_storage.find(std::make_pair(req.source.raw_data(), req.source.shape()));
    const ValueId v = found == by_storage.end() ? kNoId : found->second;
    Value* val = v == kNoId ? nullptr : &g.value(v);
    const bool releasable = val && !val->is_graph_input && !val->is_graph_output && !read_at_run[static_cast<size_t>(v)];
    // A weight packed in two layouts (transB and not) is let go of after the last.
    const bool last = std::none_of(reqs.begin() + static_cast<std::ptrdiff_t>(r) + 1, reqs.end(), [&](const auto& o) {
      return o.source.raw_data() == req.source.raw_data();
    });
    const bool file_backed = releasable && last && in_read_only_file_mapping(req.source.raw_data(), req.source.byte_size());
    // The graph's initializer and this request: nobody else holds the storage.
    const bool exclusive = releasable && last && !file_backed && req.source.owner().use_count() == 2;
    std::optional<PageReleaser> releaser;
    if (file_backed || exclusive) releaser.emplace(req.source, file_backed);
    PackedWeightRequests::fulfil(req, releaser ? [&](const float* end) { releaser->consumed(end); }
                                               : PackedWeights::ConsumedFn());
    if (releaser) releaser->finish();
    ++stats.packed_weights;
    stats.packed_bytes += static_cast<int64_t>(req.packed->byte_size());
    if (releasable && last) {
      ++stats.released_initializers;
      stats.released_bytes += static_cast<int64_t>(req.source.byte_size());
      if (!file_backed) {  // a file view costs nothing resident: kept for writing
        val->rebuild_initializer = unpacker(req, req.source.shape());
        val->initializer.reset();
      }
    }
    req.source = Tensor();
  }
  return stats;
}

}  // namespace onnx_mini
