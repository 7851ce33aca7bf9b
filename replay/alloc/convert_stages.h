// Convert's two stages as plain classes (convert.h's generators wrap
// them; convert() itself drives them in one loop, with no coroutine
// between the reader and the writer): the Sequencer puts records back in
// sequence order and checks their times, the SlotMapper turns addresses
// into slots. Internal to convert.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "replay/alloc/address_map.h"
#include "replay/alloc/convert.h"

namespace weft::replay::convert_stages {

inline void anomaly(const ConvertOptions& options, const std::string& what) {
  if (options.strict) throw ConvertError(what);
}

// Orders records by `seq`, holding at most options.reorder_window, and
// refuses (BadTimeError) a time past kMaxTimeNs or a thread's time that
// goes back in file order.
class Sequencer {
 public:
  Sequencer(ConvertStats& stats, const ConvertOptions& options)
      : stats_(stats), options_(options) {}

  // The next record in file order; calls emit(record) for each record now
  // in sequence.
  template <class Emit>
  void feed(const AllocRecord& r, Emit&& emit) {
    if ((++stats_.calls & ((1u << 20) - 1)) == 0 && options_.progress)
      options_.progress(stats_.calls);
    if (r.timed) check_time(r);
    // A realloc of a block also holds the sequence number at which it
    // may have released the old block: that moment becomes a release
    // marker (a free with release_delta set) of its own.
    if (r.call == AllocCall::kRealloc && r.ptr != 0 && r.release_delta != 0 &&
        r.release_delta <= r.seq) {
      AllocRecord marker = r;
      marker.call = AllocCall::kFree;
      marker.seq = r.seq - r.release_delta;
      marker.size = 0;
      marker.result = 0;
      place(marker, emit);
    }
    place(r, emit);
  }

  // The input is over: what is still held, in order.
  template <class Emit>
  void finish(Emit&& emit) {
    while (!held_.empty()) release(emit);
  }

 private:
  struct LaterSeq {
    bool operator()(const AllocRecord& a, const AllocRecord& b) const {
      return a.seq > b.seq;
    }
  };

  template <class Emit>
  void place(const AllocRecord& item, Emit& emit) {
    if (item.seq < next_) {
      // Arrived after we gave up waiting for it.
      ++stats_.late;
      anomaly(options_, "record " + std::to_string(item.seq) +
                            " arrived after the reorder window had passed it");
      emit(item);
      return;
    }
    if (item.seq == next_ && held_.empty()) {
      ++next_;
      emit(item);
      return;
    }
    ++stats_.reordered;
    held_.push(item);
    if (held_.size() > stats_.max_window) stats_.max_window = held_.size();
    while (!held_.empty() &&
           (held_.top().seq <= next_ || held_.size() > options_.reorder_window))
      release(emit);
  }

  template <class Emit>
  void release(Emit& emit) {
    const AllocRecord top = held_.top();
    held_.pop();
    if (top.seq > next_) {
      stats_.sequence_gaps += top.seq - next_;
      anomaly(options_, "sequence numbers " + std::to_string(next_) + " to " +
                            std::to_string(top.seq - 1) + " are missing");
    }
    next_ = top.seq + 1;
    emit(top);
  }

  void check_time(const AllocRecord& r);

  ConvertStats& stats_;
  const ConvertOptions& options_;
  // Per-thread buffers land whole, so records arrive in runs that are each
  // in order; a heap keyed by sequence number puts them back together.
  std::priority_queue<AllocRecord, std::vector<AllocRecord>, LaterSeq> held_;
  // Sequence numbers start at 0 (the recorder's counter and the
  // importers' line count), whichever thread's batch comes first.
  std::uint64_t next_ = 0;
  // Each thread's latest time: by number below kMaxThreads, else mapped.
  std::vector<std::uint64_t> last_time_;
  std::unordered_map<std::uint32_t, std::uint64_t> last_time_far_;
};

// Addresses to slots; records must come in sequence order.
class SlotMapper {
 public:
  SlotMapper(ConvertStats& stats, const ConvertOptions& options)
      : stats_(stats), options_(options) {}

  // The slot operations of the next call: writes 0, 1 or 2 to `out`
  // and returns how many.
  int map(const AllocRecord& r, SlotRecord* out);

  // A hint, some calls before map(r): r's addresses are about to be used.
  void prefetch(const AllocRecord& r) const {
    if (r.call != AllocCall::kFree) map_.prefetch(r.result);
    if (r.ptr != 0) map_.prefetch(r.ptr);
  }

 private:
  struct Releasing {
    std::uint32_t slot;
    std::uint64_t ptr;
  };

  int allocation(const AllocRecord& r, SlotRecord* out);
  int free(const AllocRecord& r, SlotRecord* out);
  int realloc_end(const AllocRecord& r, Releasing rel, SlotRecord* out);
  int realloc(const AllocRecord& r, SlotRecord* out);

  std::uint32_t take_slot();
  void note_peak();
  AddressMap::Entry* live_at(std::uint64_t addr);
  void put_live(std::uint64_t addr, std::uint32_t slot);
  void drop_live(std::uint64_t addr);
  void remember_freed(std::uint64_t addr, AddressMap::Entry* e = nullptr);
  bool recent(const AddressMap::Entry& e) const;
  void sweep();
  std::uint32_t free_live(AddressMap::Entry* e, std::uint64_t addr);
  SlotRecord free_op(std::uint32_t thread, std::uint32_t slot);
  std::optional<SlotRecord> reused(const AllocRecord& r);
  SlotRecord new_block(const AllocRecord& r, bool looked_up,
                       AddressMap::Entry* e);

  ConvertStats& stats_;
  const ConvertOptions& options_;
  // Address -> slot of each live block, and freed addresses
  // (AddressMap::kFreed) with the count of frees at theirs: those of the
  // last `recent_frees` frees tell a double free from a free of an address
  // never seen. Older ones are swept out whenever the map has doubled
  // since the last sweep: bounded by live blocks and the window.
  AddressMap map_;
  std::uint64_t live_ = 0;  // the entries of `map_` that are live blocks
  std::vector<std::uint32_t> free_slots_;
  std::uint32_t next_slot_ = 0;
  std::uint32_t frees_ = 0;  // frees remembered (mod 2^32)
  std::size_t sweep_at_ = 1 << 12;
  // Reallocs between their two sequence numbers, by thread (a thread has
  // at most one in flight).
  std::unordered_map<std::uint32_t, Releasing> releasing_;
};

}  // namespace weft::replay::convert_stages
