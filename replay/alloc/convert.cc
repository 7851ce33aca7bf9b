#include "replay/alloc/convert.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "replay/alloc/convert_stages.h"
#include "replay/alloc/import.h"
#include "traces/files.h"
#include "traces/writer.h"

namespace weft::replay {
namespace convert_stages {

void Sequencer::check_time(const AllocRecord& r) {
  std::uint64_t* last = nullptr;
  if (r.thread < kMaxThreads) {
    if (r.thread >= last_time_.size()) last_time_.resize(r.thread + 1, 0);
    last = &last_time_[r.thread];
  } else {
    last = &last_time_far_[r.thread];
  }
  if (r.time_ns <= kMaxTimeNs && r.time_ns >= *last) {
    *last = r.time_ns;
    return;
  }
  const std::string where =
      "record " + std::to_string(stats_.calls - 1) +
      " (counting from 0; sequence " + std::to_string(r.seq) + ", thread " +
      std::to_string(r.thread) + "): time " + std::to_string(r.time_ns) + " ns";
  if (r.time_ns > kMaxTimeNs)
    throw BadTimeError(where + " is past the largest a log may hold, " +
                       std::to_string(kMaxTimeNs) +
                       " ns (2^62); the thread's previous time is " +
                       std::to_string(*last) + " ns");
  throw BadTimeError(where + " is before the thread's previous time " +
                     std::to_string(*last) + " ns");
}

namespace {

// A slot operation happens when the call it comes from was made.
SlotRecord stamped(SlotRecord op, const AllocRecord& call) {
  op.timed = call.timed;
  op.time_ns = call.time_ns;
  return op;
}

// A realloc of a live block, which keeps its slot.
SlotRecord realloc_op(const AllocRecord& r, std::uint32_t slot) {
  SlotRecord op;
  op.call = AllocCall::kRealloc;
  op.thread = r.thread;
  op.slot = slot;
  op.size = r.size;
  return stamped(op, r);
}

}  // namespace

std::uint32_t SlotMapper::take_slot() {
  if (free_slots_.empty()) return next_slot_++;
  // Last freed first: the replayer touches warm memory, as the program did.
  const std::uint32_t s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

// Slots in use: the live blocks and those of reallocs in flight, whose
// addresses are already released (counting only live blocks came out one
// short of the slots when an allocation fell inside a realloc's window).
void SlotMapper::note_peak() {
  stats_.peak_live =
      std::max<std::uint64_t>(stats_.peak_live, live_ + releasing_.size());
}

// The entry of the live block at `addr`, or nullptr.
AddressMap::Entry* SlotMapper::live_at(std::uint64_t addr) {
  AddressMap::Entry* e = map_.find(addr);
  return e != nullptr && e->value != AddressMap::kFreed ? e : nullptr;
}

// `addr` becomes live with `slot` (forgetting a recent free of it), unless
// a live block already has it.
void SlotMapper::put_live(std::uint64_t addr, std::uint32_t slot) {
  AddressMap::Entry* e = map_.find(addr);
  if (e == nullptr) {
    map_.insert(addr, slot);
  } else if (e->value == AddressMap::kFreed) {
    e->value = slot;
  } else {
    return;
  }
  ++live_;
}

void SlotMapper::drop_live(std::uint64_t addr) {
  map_.erase(addr);
  --live_;
}

// Whether freed entry `e` is among the last `recent_frees` frees.
bool SlotMapper::recent(const AddressMap::Entry& e) const {
  return static_cast<std::uint32_t>(frees_ - e.gen) < options_.recent_frees;
}

void SlotMapper::sweep() {
  map_.retain([&](const AddressMap::Entry& e) {
    return e.value != AddressMap::kFreed || recent(e);
  });
  sweep_at_ = 2 * map_.size() + (1 << 12);
}

// `addr` (entry `e`, if known), no longer live, is remembered as freed.
void SlotMapper::remember_freed(std::uint64_t addr, AddressMap::Entry* e) {
  if (options_.recent_frees == 0) {
    if (e != nullptr) map_.erase(addr);
    return;
  }
  ++frees_;
  if (e == nullptr) e = map_.find(addr);
  if (e == nullptr) {
    map_.insert(addr, AddressMap::kFreed, frees_);
  } else if (e->value == AddressMap::kFreed) {
    e->gen = frees_;
  } else {
    return;  // live again already (another thread's block)
  }
  // Every 2^30 frees too, so that a generation never comes round again.
  if (map_.size() > sweep_at_ || (frees_ & ((1u << 30) - 1)) == 0) sweep();
}

// The live block at `addr` (entry `e`) is freed: its slot.
std::uint32_t SlotMapper::free_live(AddressMap::Entry* e, std::uint64_t addr) {
  const std::uint32_t slot = e->value;
  --live_;
  e->value = AddressMap::kFreed;
  remember_freed(addr, e);
  return slot;
}

SlotRecord SlotMapper::free_op(std::uint32_t thread, std::uint32_t slot) {
  SlotRecord op;
  op.call = AllocCall::kFree;
  op.thread = thread;
  op.slot = slot;
  free_slots_.push_back(slot);
  return op;
}

// The address is handed out while still live in the log: its old block is
// taken as freed here.
std::optional<SlotRecord> SlotMapper::reused(const AllocRecord& r) {
  const AddressMap::Entry* e = live_at(r.result);
  if (e == nullptr) return std::nullopt;
  ++stats_.reused_before_free;
  anomaly(options_, "an address handed out again at sequence " +
                        std::to_string(r.seq) + " before its free was logged");
  const SlotRecord op = free_op(r.thread, e->value);
  drop_live(r.result);
  return stamped(op, r);
}

// With `looked_up`, `e` is what map_.find(r.result) gave: nullptr or a
// freed entry.
SlotRecord SlotMapper::new_block(const AllocRecord& r, bool looked_up,
                                 AddressMap::Entry* e) {
  SlotRecord op;
  op.call = r.call;
  op.thread = r.thread;
  op.slot = take_slot();
  op.size = r.size;
  op.align = r.align;
  if (!looked_up) {
    put_live(r.result, op.slot);
  } else {
    if (e != nullptr)
      e->value = op.slot;
    else
      map_.insert(r.result, op.slot);
    ++live_;
  }
  note_peak();
  return stamped(op, r);
}

int SlotMapper::allocation(const AllocRecord& r, SlotRecord* out) {
  if (r.result == 0) {
    ++stats_.failed;
    return 0;
  }
  int n = 0;
  AddressMap::Entry* e = map_.find(r.result);
  if (e != nullptr && e->value != AddressMap::kFreed) {
    out[n++] = *reused(r);
    e = nullptr;  // reused() took it out
  }
  out[n++] = new_block(r, true, e);
  return n;
}

int SlotMapper::free(const AllocRecord& r, SlotRecord* out) {
  if (r.ptr == 0) return 0;
  AddressMap::Entry* e = map_.find(r.ptr);
  if (e == nullptr || (e->value == AddressMap::kFreed && !recent(*e))) {
    ++stats_.unknown_frees;
    anomaly(options_,
            "free of an unknown address at sequence " + std::to_string(r.seq));
    return 0;
  }
  if (e->value == AddressMap::kFreed) {
    ++stats_.double_frees;
    anomaly(options_,
            "double free of an address at sequence " + std::to_string(r.seq));
    return 0;
  }
  out[0] = stamped(free_op(r.thread, free_live(e, r.ptr)), r);
  return 1;
}

// The second half of a recorded realloc (see the release marker).
int SlotMapper::realloc_end(const AllocRecord& r, Releasing rel,
                            SlotRecord* out) {
  if (r.result == 0) {
    if (r.size != 0) {
      ++stats_.failed;  // the block stays as it was
      put_live(rel.ptr, rel.slot);
      return 0;
    }
    remember_freed(rel.ptr);
    out[0] = stamped(free_op(r.thread, rel.slot), r);
    return 1;
  }
  int n = 0;
  if (auto op = reused(r)) out[n++] = *op;
  if (r.result != rel.ptr) remember_freed(rel.ptr);
  put_live(r.result, rel.slot);
  out[n++] = realloc_op(r, rel.slot);
  return n;
}

int SlotMapper::realloc(const AllocRecord& r, SlotRecord* out) {
  AddressMap::Entry* e = r.ptr != 0 ? live_at(r.ptr) : nullptr;
  int n = 0;
  if (e == nullptr) {
    if (r.ptr != 0) {
      ++stats_.unknown_frees;
      anomaly(options_, "realloc of an unknown address at sequence " +
                            std::to_string(r.seq));
    }
    if (r.result == 0) {
      ++stats_.failed;
      return 0;
    }
    if (auto op = reused(r)) out[n++] = *op;
    SlotRecord op = new_block(r, false, nullptr);
    op.from_null = true;
    op.align = 0;
    out[n++] = op;
    return n;
  }
  const std::uint32_t slot = e->value;
  if (r.result == 0) {
    if (r.size != 0) {
      ++stats_.failed;  // the block stays as it was
      return 0;
    }
    // realloc(p, 0) that freed p (glibc): replayed as a free, since
    // allocators differ on what realloc(p, 0) returns.
    free_live(e, r.ptr);
    out[0] = stamped(free_op(r.thread, slot), r);
    return 1;
  }
  drop_live(r.ptr);
  if (r.result != r.ptr) {
    if (auto op = reused(r)) out[n++] = *op;
    remember_freed(r.ptr);
  }
  put_live(r.result, slot);
  out[n++] = realloc_op(r, slot);
  return n;
}

int SlotMapper::map(const AllocRecord& r, SlotRecord* out) {
  int n = 0;
  if (is_allocation(r.call)) {
    n = allocation(r, out);
  } else if (r.call == AllocCall::kFree && r.release_delta != 0) {
    // A realloc on this thread has started: its old block's address is
    // free for others from here; the slot waits for the realloc.
    if (const AddressMap::Entry* e = live_at(r.ptr)) {
      releasing_[r.thread] = Releasing{e->value, r.ptr};
      drop_live(r.ptr);
    }
  } else if (r.call == AllocCall::kFree) {
    n = free(r, out);
  } else if (r.ptr != 0 && r.release_delta != 0 && !releasing_.empty() &&
             releasing_.count(r.thread) != 0) {
    const auto it = releasing_.find(r.thread);
    const Releasing rel = it->second;
    releasing_.erase(it);
    n = realloc_end(r, rel, out);
  } else {
    n = realloc(r, out);
  }
  stats_.operations += static_cast<std::uint64_t>(n);
  return n;
}

}  // namespace convert_stages

traces::Generator<AllocRecord> in_sequence(traces::Generator<AllocRecord> in,
                                           ConvertStats& stats,
                                           ConvertOptions options) {
  convert_stages::Sequencer sequencer(stats, options);
  std::vector<AllocRecord> ready;
  auto keep = [&](const AllocRecord& r) { ready.push_back(r); };
  for (auto& r : in) {
    sequencer.feed(r, keep);
    for (const auto& x : ready) co_yield x;
    ready.clear();
  }
  sequencer.finish(keep);
  for (const auto& x : ready) co_yield x;
}

traces::Generator<SlotRecord> to_slots(traces::Generator<AllocRecord> in,
                                       ConvertStats& stats,
                                       ConvertOptions options) {
  convert_stages::SlotMapper mapper(stats, options);
  SlotRecord out[2];
  for (auto& r : in) {
    const int n = mapper.map(r, out);
    for (int k = 0; k < n; ++k) co_yield out[k];
  }
}

namespace {

// The sequencer, the slot mapper and the slots log's writer on a thread
// of their own: ordering the calls, mapping addresses to slots, coding and
// compressing the operations overlap with reading the calls, which is
// then all the converting thread does (its reading was most of its time,
// and ordering most of the rest). Batches of calls, in file order, are
// handed over kDepth at a time at most, so memory stays fixed. The
// TraceWriter is made and closed (or, on an exception, destroyed without
// its file appearing) on the converting thread; the mapping thread only
// orders, maps and appends, and an exception there (a bad time, an
// anomaly under --strict, a full disk) is rethrown on the converting
// thread at its next hand-over.
class BackgroundMapper {
 public:
  BackgroundMapper(const std::string& path, const traces::TraceHeader& header,
                   traces::WriterOptions options, ConvertStats& stats,
                   const ConvertOptions& convert_options)
      : writer_(path, header, options),
        sequencer_(stats, convert_options),
        mapper_(stats, convert_options),
        thread_([this] { run(); }) {
    batch_.reserve(kBatch);
  }
  ~BackgroundMapper() { stop(false); }
  BackgroundMapper(const BackgroundMapper&) = delete;
  BackgroundMapper& operator=(const BackgroundMapper&) = delete;

  // The next call in file order.
  void append(const AllocRecord& call) {
    batch_.push_back(call);
    if (batch_.size() == kBatch) hand_over();
  }

  // Orders, maps and writes what is left, then the end marker; rethrows
  // the mapping thread's error.
  void close() {
    hand_over();
    stop(true);
    if (error_) std::rethrow_exception(error_);
    writer_.close();
  }

 private:
  static constexpr std::size_t kBatch = 16384;
  // Batches handed over and not yet taken, at most (about 1.2 MB each):
  // a little slack for a thread that loses its core. Eight measured no
  // faster than one on a loaded machine (docs/performance.md), for 7 MB
  // more.
  static constexpr std::size_t kDepth = 2;
  // Each call's map entries are fetched this many calls before it is
  // mapped: the map's lookups are its cache misses.
  static constexpr std::size_t kAhead = 8;

  void hand_over() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_.size() < kDepth || error_; });
    if (error_) std::rethrow_exception(error_);
    pending_.push_back(std::move(batch_));
    batch_.clear();
    if (!spare_.empty()) {
      batch_.swap(spare_.back());
      spare_.pop_back();
    } else {
      batch_.reserve(kBatch);
    }
    cv_.notify_all();
  }

  // With `finish`, the thread puts out what the sequencer still holds
  // before it ends (close); without, it drops it (an exception).
  void stop(bool finish) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      finishing_ = finish;
    }
    cv_.notify_all();
    thread_.join();
  }

  // A call in sequence order: mapped and written with the batch it joins
  // (at most kBatch calls wait, also when the sequencer lets out all it
  // holds at the end).
  void keep(const AllocRecord& r) {
    ordered_.push_back(r);
    if (ordered_.size() == kBatch) map_ordered();
  }

  // The calls `calls`, in file order, through the sequencer; then the
  // ones now in sequence order mapped and written.
  void map(const std::vector<AllocRecord>& calls) {
    for (const AllocRecord& r : calls)
      sequencer_.feed(r, [this](const AllocRecord& c) { keep(c); });
    map_ordered();
  }

  void map_ordered() {
    SlotRecord ops[2];
    const std::size_t n = ordered_.size();
    for (std::size_t i = 0; i < std::min(n, kAhead); ++i)
      mapper_.prefetch(ordered_[i]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) mapper_.prefetch(ordered_[i + kAhead]);
      const int k = mapper_.map(ordered_[i], ops);
      for (int j = 0; j < k; ++j) writer_.append(ops[j]);
    }
    ordered_.clear();
  }

  // The next batch into `mine`; false once stopping with none left.
  bool take(std::vector<AllocRecord>& mine) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !pending_.empty() || stopping_; });
      if (pending_.empty()) return false;
      mine.clear();
      spare_.push_back(std::move(mine));
      mine = std::move(pending_.front());
      pending_.pop_front();
    }
    cv_.notify_all();
    return true;
  }

  void run() {
    std::vector<AllocRecord> mine;
    mine.reserve(kBatch);
    try {
      while (take(mine)) {
        map(mine);
        mine.clear();
      }
      if (finishing_) {
        sequencer_.finish([this](const AllocRecord& c) { keep(c); });
        map_ordered();
      }
    } catch (...) {
      std::lock_guard lock(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }

  traces::TraceWriter writer_;
  convert_stages::Sequencer sequencer_;
  convert_stages::SlotMapper mapper_;
  std::vector<AllocRecord> batch_;  // being filled (converting thread)
  // Handed over, not yet taken; and emptied ones, kept for their memory.
  std::deque<std::vector<AllocRecord>> pending_;
  std::vector<std::vector<AllocRecord>> spare_;
  std::vector<AllocRecord> ordered_;  // in sequence order (mapping thread)
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool finishing_ = false;  // set with stopping_, under mu_
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the rest is made
};

}  // namespace

ConvertStats convert(const std::string& input, const std::string& output,
                     ConvertOptions options) {
  ConvertStats stats;
  traces::refuse_overwriting(input, output, "log");
  ImportedLog source = open_calls(input);
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kAllocLog;
  header.metadata = {{"form", "slots"}, {"source", input}};
  for (const auto& kv : source.metadata)
    if (kv.first != "form") header.metadata.push_back(kv);
  traces::WriterOptions wo;
  wo.records_per_frame = 65536;
  // zstd's level 1: on a recorded python3 log the slots log came out no
  // larger than at the default 3, for a sixth less CPU.
  wo.compression_level = 1;
  BackgroundMapper mapper(output, header, wo, stats, options);
  // This thread reads; the calls go in file order to the mapping thread.
  try {
    for (const auto& r : *source.calls) mapper.append(r);
  } catch (const BadTimeError& e) {
    throw BadTimeError(input + ": " + e.what());
  }
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
  try {
    mapper.close();
  } catch (const BadTimeError& e) {
    throw BadTimeError(input + ": " + e.what());
  }
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
