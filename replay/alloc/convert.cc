#include "replay/alloc/convert.h"

#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "replay/alloc/import.h"
#include "traces/writer.h"

namespace weft::replay {
namespace {

struct LaterSeq {
  bool operator()(const AllocRecord& a, const AllocRecord& b) const {
    return a.seq > b.seq;
  }
};

void anomaly(const ConvertOptions& options, const std::string& what) {
  if (options.strict) throw ConvertError(what);
}

}  // namespace

traces::Generator<AllocRecord> in_sequence(traces::Generator<AllocRecord> in,
                                           ConvertStats& stats,
                                           ConvertOptions options) {
  // Per-thread buffers land whole, so records arrive in runs that are each
  // in order; a heap keyed by sequence number puts them back together.
  std::priority_queue<AllocRecord, std::vector<AllocRecord>, LaterSeq> held;
  // Sequence numbers start at 0 (the recorder's counter and the
  // importers' line count), whichever thread's batch comes first.
  std::uint64_t next = 0;
  for (auto& r : in) {
    if ((++stats.calls & ((1u << 20) - 1)) == 0 && options.progress)
      options.progress(stats.calls);
    // A realloc of a block also holds the sequence number at which it
    // may have released the old block: that moment becomes a release
    // marker (a free with release_delta set) of its own.
    AllocRecord items[2];
    int count = 0;
    if (r.call == AllocCall::kRealloc && r.ptr != 0 && r.release_delta != 0 &&
        r.release_delta <= r.seq) {
      AllocRecord marker = r;
      marker.call = AllocCall::kFree;
      marker.seq = r.seq - r.release_delta;
      marker.size = 0;
      marker.result = 0;
      items[count++] = marker;
    }
    items[count++] = r;
    for (int k = 0; k < count; ++k) {
      const AllocRecord& item = items[k];
      if (item.seq < next) {
        // Arrived after we gave up waiting for it.
        ++stats.late;
        anomaly(options, "record " + std::to_string(item.seq) +
                             " arrived after the reorder window had passed it");
        co_yield item;
        continue;
      }
      if (item.seq != next || !held.empty()) {
        ++stats.reordered;
        held.push(item);
        if (held.size() > stats.max_window) stats.max_window = held.size();
      } else {
        ++next;
        co_yield item;
      }
      while (!held.empty() &&
             (held.top().seq <= next || held.size() > options.reorder_window)) {
        AllocRecord top = held.top();
        held.pop();
        if (top.seq > next) {
          stats.sequence_gaps += top.seq - next;
          anomaly(options, "sequence numbers " + std::to_string(next) + " to " +
                               std::to_string(top.seq - 1) + " are missing");
        }
        next = top.seq + 1;
        co_yield top;
      }
    }
  }
  while (!held.empty()) {
    AllocRecord top = held.top();
    held.pop();
    if (top.seq > next) {
      stats.sequence_gaps += top.seq - next;
      anomaly(options, "sequence numbers " + std::to_string(next) + " to " +
                           std::to_string(top.seq - 1) + " are missing");
    }
    next = top.seq + 1;
    co_yield top;
  }
}

namespace {

// A slot operation happens when the call it comes from was made.
SlotRecord stamped(SlotRecord op, const AllocRecord& call) {
  op.timed = call.timed;
  op.time_ns = call.time_ns;
  return op;
}

}  // namespace

traces::Generator<SlotRecord> to_slots(traces::Generator<AllocRecord> in,
                                       ConvertStats& stats,
                                       ConvertOptions options) {
  std::unordered_map<std::uint64_t, std::uint32_t> live;  // address -> slot
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;
  // The last `recent_frees` freed addresses, to tell a double free from a
  // free of an address never seen. Bounded: a ring and a set.
  std::vector<std::uint64_t> ring(options.recent_frees);
  std::size_t ring_at = 0;
  std::unordered_set<std::uint64_t> recent;
  // Reallocs between their two sequence numbers, by thread (a thread has
  // at most one in flight).
  struct Releasing {
    std::uint32_t slot;
    std::uint64_t ptr;
  };
  std::unordered_map<std::uint32_t, Releasing> releasing;

  auto take_slot = [&] {
    std::uint32_t s;
    if (!free_slots.empty()) {
      // Last freed first: the replayer touches warm memory, as the program
      // did.
      s = free_slots.back();
      free_slots.pop_back();
    } else {
      s = next_slot++;
    }
    return s;
  };
  // Slots in use: the live blocks and those of reallocs in flight, whose
  // addresses are already released (counting only `live` came out one
  // short of the slots when an allocation fell inside a realloc's window).
  auto note_peak = [&] {
    stats.peak_live = std::max<std::uint64_t>(stats.peak_live,
                                              live.size() + releasing.size());
  };
  auto forget_freed = [&](std::uint64_t addr) { recent.erase(addr); };
  auto remember_freed = [&](std::uint64_t addr) {
    if (ring.empty()) return;
    if (ring[ring_at] != 0) recent.erase(ring[ring_at]);
    ring[ring_at] = addr;
    recent.insert(addr);
    ring_at = (ring_at + 1) % ring.size();
  };
  auto free_op = [&](std::uint32_t thread, std::uint32_t slot) {
    SlotRecord op;
    op.call = AllocCall::kFree;
    op.thread = thread;
    op.slot = slot;
    free_slots.push_back(slot);
    return op;
  };
  // The address is handed out while still live in the log.
  auto reused = [&](const AllocRecord& r) -> std::optional<SlotRecord> {
    const auto it = live.find(r.result);
    if (it == live.end()) return std::nullopt;
    ++stats.reused_before_free;
    anomaly(options, "an address handed out again at sequence " +
                         std::to_string(r.seq) + " before its free was logged");
    SlotRecord op = free_op(r.thread, it->second);
    live.erase(it);
    return op;
  };

  for (auto& r : in) {
    if (is_allocation(r.call)) {
      if (r.result == 0) {
        ++stats.failed;
        continue;
      }
      if (auto op = reused(r)) {
        ++stats.operations;
        co_yield stamped(*op, r);
      }
      forget_freed(r.result);
      SlotRecord op;
      op.call = r.call;
      op.thread = r.thread;
      op.slot = take_slot();
      op.size = r.size;
      op.align = r.align;
      live.emplace(r.result, op.slot);
      note_peak();
      ++stats.operations;
      co_yield stamped(op, r);
    } else if (r.call == AllocCall::kFree && r.release_delta != 0) {
      // A realloc on this thread has started: its old block's address is
      // free for others from here; the slot waits for the realloc.
      const auto it = live.find(r.ptr);
      if (it != live.end()) {
        releasing[r.thread] = Releasing{it->second, r.ptr};
        live.erase(it);
      }
    } else if (r.call == AllocCall::kFree) {
      if (r.ptr == 0) continue;
      const auto it = live.find(r.ptr);
      if (it == live.end()) {
        if (recent.count(r.ptr) != 0) {
          ++stats.double_frees;
          anomaly(options, "double free of an address at sequence " +
                               std::to_string(r.seq));
        } else {
          ++stats.unknown_frees;
          anomaly(options, "free of an unknown address at sequence " +
                               std::to_string(r.seq));
        }
        continue;
      }
      SlotRecord op = free_op(r.thread, it->second);
      live.erase(it);
      remember_freed(r.ptr);
      ++stats.operations;
      co_yield stamped(op, r);
    } else if (r.ptr != 0 && r.release_delta != 0 &&
               releasing.count(r.thread) != 0) {
      // The second half of a recorded realloc (see the marker above).
      const Releasing rel = releasing[r.thread];
      releasing.erase(r.thread);
      if (r.result == 0) {
        if (r.size != 0) {
          ++stats.failed;  // the block stays as it was
          live.emplace(rel.ptr, rel.slot);
          continue;
        }
        remember_freed(rel.ptr);
        ++stats.operations;
        co_yield stamped(free_op(r.thread, rel.slot), r);
        continue;
      }
      if (auto op = reused(r)) {
        ++stats.operations;
        co_yield stamped(*op, r);
      }
      if (r.result != rel.ptr) {
        remember_freed(rel.ptr);
        forget_freed(r.result);
      }
      live.emplace(r.result, rel.slot);
      SlotRecord op;
      op.call = AllocCall::kRealloc;
      op.thread = r.thread;
      op.slot = rel.slot;
      op.size = r.size;
      ++stats.operations;
      co_yield stamped(op, r);
    } else {  // realloc
      if (r.ptr == 0 || live.find(r.ptr) == live.end()) {
        if (r.ptr != 0) {
          ++stats.unknown_frees;
          anomaly(options, "realloc of an unknown address at sequence " +
                               std::to_string(r.seq));
        }
        if (r.result == 0) {
          ++stats.failed;
          continue;
        }
        if (auto op = reused(r)) {
          ++stats.operations;
          co_yield stamped(*op, r);
        }
        forget_freed(r.result);
        SlotRecord op;
        op.call = AllocCall::kRealloc;
        op.from_null = true;
        op.thread = r.thread;
        op.slot = take_slot();
        op.size = r.size;
        live.emplace(r.result, op.slot);
        note_peak();
        ++stats.operations;
        co_yield stamped(op, r);
        continue;
      }
      const auto it = live.find(r.ptr);
      const std::uint32_t slot = it->second;
      if (r.result == 0) {
        if (r.size != 0) {
          ++stats.failed;  // the block stays as it was
          continue;
        }
        // realloc(p, 0) that freed p (glibc): replayed as a free, since
        // allocators differ on what realloc(p, 0) returns.
        live.erase(it);
        remember_freed(r.ptr);
        ++stats.operations;
        co_yield stamped(free_op(r.thread, slot), r);
        continue;
      }
      live.erase(it);
      if (r.result != r.ptr) {
        if (auto op = reused(r)) {
          ++stats.operations;
          co_yield stamped(*op, r);
        }
        remember_freed(r.ptr);
        forget_freed(r.result);
      }
      live.emplace(r.result, slot);
      SlotRecord op;
      op.call = AllocCall::kRealloc;
      op.thread = r.thread;
      op.slot = slot;
      op.size = r.size;
      ++stats.operations;
      co_yield stamped(op, r);
    }
  }
}

ConvertStats convert(const std::string& input, const std::string& output,
                     ConvertOptions options) {
  ConvertStats stats;
  refuse_overwriting(input, output);
  ImportedLog source = open_calls(input);
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}, {"source", input}};
  for (const auto& kv : source.metadata)
    if (kv.first != "form") header.metadata.push_back(kv);
  traces::WriterOptions wo;
  wo.records_per_frame = 65536;
  traces::TraceWriter writer(output, header, wo);
  for (const auto& op :
       to_slots(in_sequence(std::move(*source.calls), stats, options), stats,
                options))
    writer.append(op);
  stats.lost_bytes = source.tail->lost_bytes;
  stats.lost_at = source.tail->lost_at;
  stats.losses = traces::describe_losses(input, *source.tail);
  // Before close(): a refused convert leaves no output.
  if (stats.lost_bytes != 0 && options.strict)
    throw ConvertError(input + ": cut short at byte " +
                       std::to_string(stats.lost_at) + " (" +
                       std::to_string(stats.lost_bytes) +
                       " bytes of an unfinished frame lost)");
  if (!stats.losses.empty() && options.strict)
    throw ConvertError(stats.losses.front());
  writer.close();
  return stats;
}

void print_stats(const ConvertStats& s, std::ostream& out) {
  out << "calls read         " << s.calls << "\n"
      << "operations written " << s.operations << "\n"
      << "peak live blocks   " << s.peak_live << " (slots the replayer needs)\n"
      << "failed calls       " << s.failed << " (dropped)\n"
      << (s.lost_bytes != 0
              ? "cut short          at byte " + std::to_string(s.lost_at) +
                    ": the last " + std::to_string(s.lost_bytes) +
                    " bytes were an unfinished frame (the recording stopped "
                    "mid-write); the calls before it were converted\n"
              : std::string())
      << "reordered records  " << s.reordered << " (window at most "
      << s.max_window << ")\n"
      << "anomalies          " << s.anomalies() << "\n"
      << "  unknown frees      " << s.unknown_frees << "\n"
      << "  double frees       " << s.double_frees << "\n"
      << "  reused before free " << s.reused_before_free << "\n"
      << "  sequence gaps      " << s.sequence_gaps << "\n"
      << "  late records       " << s.late << "\n";
}

}  // namespace weft::replay
