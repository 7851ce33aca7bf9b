// The replay engine: runs a slots log's operations against the process's
// own malloc, checked (patterns, zeros, alignment, per-call latency) or as
// a bare loop, in one thread or one per recorded thread (ordered.cc), a
// chunk of the log at a time: between chunks the clock and the series
// stop while the next chunk is decoded and the slot array grows to what
// it uses.
#include "replay/alloc/engine.h"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "traces/format.h"

namespace weft::replay {

[[noreturn]] void OpSource::too_large(std::uint64_t slots) {
  throw std::runtime_error(
      "the slot array of " + std::to_string(slots) +
      " slots could not be reserved: the log is too large for this "
      "address space");
}

namespace internal {

// One operation, unchecked, from its full record.
void run_full(void** ptr, const SlotRecord& op) {
  if (op.call == AllocCall::kFree) {
    std::free(ptr[op.slot]);
    ptr[op.slot] = nullptr;
  } else if (op.call == AllocCall::kRealloc) {
    ptr[op.slot] = std::realloc(op.from_null ? nullptr : ptr[op.slot], op.size);
  } else {
    ptr[op.slot] = allocate(op);
  }
}

Run::Run(OpSource& src, const ReplayOptions& o)
    : source(src),
      options(o),
      ordered(o.ordered || o.timed),
      errors(std::make_unique<ErrorSink>()),
      series(std::max<std::uint32_t>(o.samples, 1)) {
  hist.resize(1);
}

// The machine's memory: a slot array larger than it is refused before
// it is mapped (and faulted in).
std::uint64_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) *
                                     static_cast<std::uint64_t>(page)
                               : ~std::uint64_t{0};
}

void Run::grow(std::uint32_t need_slots, std::uint32_t need_threads) {
  const std::uint64_t per_slot = sizeof(void*) + sizeof(std::uint64_t) +
                                 (ordered ? 2 * sizeof(std::uint32_t) : 0);
  if (need_slots > ptr.size() &&
      std::uint64_t{need_slots} * per_slot > physical_memory())
    source.too_large(need_slots);
  try {
    if (need_slots > ptr.size()) {
      // A quarter more than asked: a growing log remaps its array a
      // few dozen times, not once per chunk.
      const std::size_t to =
          std::max<std::size_t>(need_slots, ptr.size() + ptr.size() / 4);
      ptr.resize(to);
      size.resize(to);
      if (ordered) {
        uses.resize(to);
        slot_turn.resize(to);
      }
    }
  } catch (const std::bad_alloc&) {
    source.too_large(need_slots);
  }
  if (need_threads > hist.size()) hist.resize(need_threads);
  slots = std::max(slots, need_slots);
  threads = std::max(threads, need_threads);
}

bool Run::next_chunk() {
  const auto [p, count] = source.next();
  if (count == 0) return false;
  ops = p;
  first = total;
  n = count;
  total += count;
  if (!have_time0) {
    time0 = ops[0].time_ns;
    have_time0 = true;
  }
  // The unchecked fast mode grows the slot array as it packs the chunk
  // (prepare_unchecked): a pass over the chunk here would stream it
  // through the caches once more.
  if (!ordered && !options.check) return true;
  std::uint32_t max_slot = 0, max_thread = 0;
  for (std::size_t i = 0; i < n; ++i) {
    max_slot = std::max(max_slot, ops[i].slot);
    max_thread = std::max(max_thread, ops[i].thread);
  }
  grow(max_slot + 1, ordered ? max_thread + 1 : 1);
  return true;
}

void Run::fit_slot(std::uint32_t slot) { grow(slot + 1, 1); }

void Run::resume() {
  clock.resume();
  t0_ = std::chrono::steady_clock::now();
  tick0_ = ticks();
}

void Run::pause() {
  run_ticks += ticks() - tick0_;
  seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_)
          .count();
  clock.pause();
}

std::uint64_t Run::own_bytes() const {
  return ptr.used_bytes() + size.used_bytes() + hist.used_bytes() +
         uses.used_bytes() + slot_turn.used_bytes() + turn.used_bytes() +
         order.used_bytes() + packed.used_bytes() + warm.used_bytes();
}

void Run::set_base() {
  base_rss = current_rss();
  own_at_base = own_bytes();
}

std::uint64_t Run::rss_above() {
  const std::uint64_t rss = current_rss();
  const std::uint64_t own = base_rss + (own_bytes() - own_at_base);
  const std::uint64_t above = rss > own ? rss - own : 0;
  max_rss_above = std::max(max_rss_above, above);
  return above;
}

bool Run::sample(std::uint64_t op, std::uint64_t live_now, bool last) {
  const Sample s{op, live_now, rss_above(), clock.ns(), 0, 0};
  return series.add(s, hist.data(), threads, last);
}

namespace {

// The calls other than malloc and free, out of the loop's way.
[[gnu::noinline]] void run_rare(void** ptr, PackedOp op,
                                const SlotRecord& full) {
  void*& p = ptr[op.slot];
  const std::uint32_t size = op.size_kind >> PackedOp::kKindBits;
  switch (op.size_kind & ((1u << PackedOp::kKindBits) - 1)) {
    case PackedOp::kRealloc:
      p = std::realloc(p, size);
      break;
    case PackedOp::kReallocFromNull: {
      // The log says realloc: the compiler must not see a constant null
      // and call malloc instead (GCC does).
      void* null = nullptr;
      asm("" : "+r"(null));
      p = std::realloc(null, size);
      break;
    }
    case PackedOp::kCalloc:
      p = std::calloc(1, size);
      break;
    default:
      run_full(ptr, full);
      break;
  }
}

// A PackedOp as one 64-bit word (slot low, size and kind high), which
// stays in a register across a call.
inline std::uint64_t op_word(const PackedOp* op) {
  static_assert(sizeof(PackedOp) == sizeof(std::uint64_t) &&
                offsetof(PackedOp, slot) == 0 &&
                std::endian::native == std::endian::little);
  std::uint64_t w;
  std::memcpy(&w, op, sizeof w);
  return w;
}

// The loop a compiled program of these calls would be, plus the slot
// array's indirection: what the 1.05x target is about. Malloc and free are
// tested directly (a jump table's indirect jump cost more) and the loop is
// out of line so that it keeps its registers (inlined into replay_ops it
// reloaded the slot array's address from the stack on every call). Each
// operation is loaded one call ahead: loaded after the previous call
// returned, its load and the slot array's load that depends on it were on
// the way to every call, about 0.08 of the compiled loop's time
// (docs/performance.md).
[[gnu::noinline]] void run_unchecked(const PackedOp* f, const SlotRecord* ops,
                                     std::size_t n, void** ptr) {
  if (n == 0) return;
  const PackedOp* p = f;
  const PackedOp* const last = f + n - 1;
  std::uint64_t word = op_word(p);
  for (;;) {
    // The last operation reads itself again rather than past the end.
    const std::uint64_t next = op_word(p != last ? p + 1 : p);
    const auto slot = static_cast<std::uint32_t>(word);
    const auto size_kind = static_cast<std::uint32_t>(word >> 32);
    const std::uint32_t kind = size_kind & ((1u << PackedOp::kKindBits) - 1);
    if (kind == PackedOp::kMalloc) {
      ptr[slot] = std::malloc(size_kind >> PackedOp::kKindBits);
    } else if (kind == PackedOp::kFree) {
      // The slot keeps the freed address: nothing in this loop reads it
      // before the slot's next allocation overwrites it (a realloc of a
      // freed slot is kReallocFromNull), and replay_ops clears the slots
      // whose last call was a free afterwards. A store fewer per free.
      std::free(ptr[slot]);
    } else {
      // The records are only read here: they are what the loop keeps on
      // the stack when it runs out of registers.
      run_rare(ptr, PackedOp{slot, size_kind}, ops[p - f]);
    }
    if (p == last) break;
    ++p;
    word = next;
  }
}

}  // namespace

// Unchecked runs do not watch the blocks, so the live bytes are the log's
// (what the program asked for), and `size` holds each slot's requested
// size plus one while its block is live and 0 once it is freed: the
// unchecked loop leaves freed slots stale, and they are cleared by this
// after it. The same pass packs that loop's operations.
void prepare_unchecked(Run& run) {
  if (!run.ordered && run.packed.size() < run.n) run.packed.resize(run.n);
  for (std::size_t i = 0; i < run.n; ++i) {
    const SlotRecord& op = run.ops[i];
    if (op.slot >= run.slots) run.fit_slot(op.slot);
    if (!run.ordered) run.packed[i] = PackedOp::of(op);
    std::uint64_t& held = run.size[op.slot];
    const std::uint64_t old =
        held == 0 || (op.call == AllocCall::kRealloc && op.from_null)
            ? 0
            : held - 1;
    run.live -= std::min(run.live, old);
    if (op.call == AllocCall::kFree) {
      held = 0;
    } else {
      run.live += op.size;
      held = op.size + 1;
    }
    run.peak_live = std::max(run.peak_live, run.live);
  }
}

namespace {

// Fast mode, checked: one thread, sampling as it goes, every `every`
// operations (doubling as the series thins itself).
struct FastSampling {
  std::uint64_t every = 1;
  std::uint64_t next = 0;
};

void run_fast_checked(Run& run, FastSampling& f) {
  const State s = run.state();
  Histograms& h = run.hist[0];
  for (std::size_t i = 0; i < run.n; ++i) {
    const std::uint64_t index = run.first + i;
    if (index == f.next) {
      if (run.sample(index, run.live)) f.every *= 2;
      f.next += f.every;
    }
    run.live = static_cast<std::uint64_t>(static_cast<std::int64_t>(run.live) +
                                          run_checked(s, run.ops[i], index, h));
    run.peak_live = std::max(run.peak_live, run.live);
  }
}

// Packing a chunk streams tens of MiB through the caches: the slot array
// and each block live at the chunk's start (its first line, often its
// allocator's header's too) are read back after it, so that the chunk
// starts about as warm as the program it replays would be, not as cold
// as a fresh replay. The live slots are listed before packing (which
// moves `size` on to the chunk's end). Blocks of 0 bytes are not read:
// they may be no memory at all.
void list_live(Run& run) {
  run.warm.clear();
  for (std::uint32_t slot = 0; slot < run.slots; ++slot)
    if (run.size[slot] > 1 && run.ptr[slot] != nullptr)
      run.warm.push_back(slot);
}

void rewarm(Run& run) {
  std::uintptr_t sum = 0;
  for (std::size_t i = 0; i < run.warm.size(); ++i)
    sum += *static_cast<const volatile unsigned char*>(run.ptr[run.warm[i]]);
  asm volatile("" : : "r"(sum));
}

void run_fast(Run& run) {
  FastSampling f;
  do {
    if (!run.options.check) {
      list_live(run);
      prepare_unchecked(run);
      rewarm(run);
    }
    run.resume();
    if (run.options.check)
      run_fast_checked(run, f);
    else
      run_unchecked(run.packed.data(), run.ops, run.n, run.ptr.data());
    run.pause();
  } while (run.next_chunk());
}

// Checked runs, at the end: blocks still live must still hold their
// patterns, and the threads' latency histograms are merged.
void finish_checked(Run& run, double ns_per_tick, ReplayResult& r) {
  for (std::uint32_t slot = 0; slot < run.slots; ++slot) {
    if (run.ptr[slot] == nullptr) continue;
    const std::uint64_t bad = first_bad(run.ptr[slot], run.size[slot], slot);
    if (bad != run.size[slot])
      run.errors->add(ErrorInfo{Problem::kCorruptedAtEnd, AllocCall::kMalloc,
                                slot, run.total, run.size[slot],
                                reinterpret_cast<std::uintptr_t>(run.ptr[slot]),
                                bad, 0});
  }
  std::uint64_t total_ticks = 0;
  std::vector<std::uint64_t> merged(kBuckets);
  for (int c = 0; c < kAllocCallCount; ++c) {
    std::fill(merged.begin(), merged.end(), 0);
    for (std::uint32_t t = 0; t < run.threads; ++t)
      for (int k = 0; k < kBuckets; ++k) merged[k] += run.hist[t].counts[c][k];
    r.latency[c] = percentiles(merged.data(), ns_per_tick);
  }
  for (std::uint32_t t = 0; t < run.threads; ++t)
    total_ticks += run.hist[t].total_ticks;
  r.call_seconds = static_cast<double>(total_ticks) * ns_per_tick / 1e9;
}

// Blocks still live are freed now, after every figure is taken, so a
// replay inside a longer-lived process (a benchmark, a test) leaves its
// heap as it found it. Damaged ones are leaked: freeing them could take
// the allocator down.
void free_live_blocks(Run& run, bool checked) {
  for (std::uint32_t slot = 0; slot < run.slots; ++slot)
    if (run.ptr[slot] != nullptr &&
        (!checked ||
         first_bad(run.ptr[slot], run.size[slot], slot) == run.size[slot]))
      std::free(run.ptr[slot]);
}

// The largest RSS / live among the points with a tenth of the peak live.
double max_fragmentation(const std::vector<Sample>& series,
                         std::uint64_t peak_live) {
  double worst = 0;
  for (const Sample& s : series)
    if (s.live_bytes > 0 && s.live_bytes * 10 >= peak_live)
      worst = std::max(worst, static_cast<double>(s.rss_bytes) /
                                  static_cast<double>(s.live_bytes));
  return worst;
}

void finish(Run& run, ReplayResult& r, bool hwm_reset) {
  const double ns_per_tick =
      run.run_ticks > 0 ? run.seconds * 1e9 / static_cast<double>(run.run_ticks)
                        : 0;
  r.seconds = run.seconds;
  r.operations = run.total;
  r.slots = run.slots;
  r.threads = run.threads;
  if (!run.options.check && !run.ordered)
    for (std::uint32_t slot = 0; slot < run.slots; ++slot)
      if (run.size[slot] == 0) run.ptr[slot] = nullptr;
  if (run.ordered && run.options.check)
    run.live = static_cast<std::uint64_t>(run.shared_live.load());
  const std::uint64_t end_above = run.rss_above();
  if (hwm_reset) {
    const std::uint64_t own =
        run.base_rss + (run.own_bytes() - run.own_at_base);
    const std::uint64_t hwm = peak_rss();
    run.max_rss_above = std::max(run.max_rss_above, hwm > own ? hwm - own : 0);
  }
  r.peak_rss = run.max_rss_above;
  r.final_rss = end_above;
  r.final_live = run.live;
  r.peak_live = run.ordered && run.options.check
                    ? static_cast<std::uint64_t>(run.shared_peak.load())
                    : run.peak_live;
  if (run.options.check) {
    run.sample(run.total, run.live, /*last=*/true);
    finish_checked(run, ns_per_tick, r);
    r.series = run.series.finish(ns_per_tick);
    r.max_fragmentation = max_fragmentation(r.series, r.peak_live);
  }
  r.error_count = run.errors->count;
  for (std::uint64_t i = 0;
       i < std::min<std::uint64_t>(run.errors->count, kKeptErrors); ++i)
    r.errors.push_back(describe(run.errors->first[i]));
  free_live_blocks(run, run.options.check);
}

// Operations already in memory, a chunk at a time.
class MemorySource : public OpSource {
 public:
  MemorySource(const SlotRecord* ops, std::size_t n, std::size_t chunk)
      : ops_(ops), n_(n), chunk_(std::max<std::size_t>(chunk, 1)) {}
  std::pair<const SlotRecord*, std::size_t> next() override {
    const std::size_t k = std::min(chunk_, n_ - at_);
    const SlotRecord* p = ops_ + at_;
    at_ += k;
    return {p, k};
  }

 private:
  const SlotRecord* ops_;
  std::size_t n_;
  std::size_t chunk_;
  std::size_t at_ = 0;
};

}  // namespace
}  // namespace internal

ReplayResult replay_stream(OpSource& source, const ReplayOptions& options) {
  using internal::Run;
  ReplayResult r;
  r.mode = options.timed ? "timed" : options.ordered ? "ordered" : "fast";
  r.checked = options.check;
  if (options.timed && !options.check)
    throw std::invalid_argument(
        "a timed replay checks every block (it samples live bytes over "
        "time): drop --no-check");
  Run run(source, options);
  if (!run.next_chunk()) {
    r.threads = 1;
    return r;
  }
  // The first chunk's set-up is faulted in, then the RSS high-water mark
  // is reset: none of it counts, nor does what the arrays grow by later.
  if (run.ordered) internal::plan_order(run);
  const bool hwm_reset = internal::reset_peak_rss();
  run.set_base();
  run.clock.start();
  run.clock.pause();
  if (run.ordered)
    internal::run_ordered(run);
  else
    internal::run_fast(run);
  internal::finish(run, r, hwm_reset);
  return r;
}

ReplayResult replay_here(const SlotLog& log, const ReplayOptions& options) {
  internal::Mapped<SlotRecord> ops(log.ops.size());
  std::copy(log.ops.begin(), log.ops.end(), ops.data());
  return replay_ops(ops.data(), ops.size(), log.slots, log.threads, options);
}

ReplayResult replay_ops(const SlotRecord* ops, std::size_t n,
                        std::uint32_t /*slots*/, std::uint32_t /*threads*/,
                        const ReplayOptions& options) {
  internal::MemorySource source(ops, n, options.chunk);
  return replay_stream(source, options);
}

}  // namespace weft::replay
