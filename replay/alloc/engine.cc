// The replay engine: runs a slots log's operations against the process's
// own malloc, checked (patterns, zeros, alignment, per-call latency) or as
// a bare loop, in one thread or one per recorded thread.
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "replay/alloc/checks.h"
#include "replay/alloc/measure.h"
#include "replay/alloc/replay.h"

namespace weft::replay {
namespace {

using internal::bucket;
using internal::current_rss;
using internal::describe;
using internal::ErrorInfo;
using internal::ErrorSink;
using internal::fill;
using internal::first_bad;
using internal::first_nonzero;
using internal::Histograms;
using internal::kBuckets;
using internal::kKeptErrors;
using internal::Mapped;
using internal::peak_rss;
using internal::percentiles;
using internal::Problem;
using internal::required_alignment;
using internal::reset_peak_rss;
using internal::ticks;

// --- the engine --------------------------------------------------------------

struct State {
  void** ptr = nullptr;
  std::uint64_t* size = nullptr;
  ErrorSink* errors = nullptr;
};

inline void* allocate(const SlotRecord& op) {
  switch (op.call) {
    case AllocCall::kMalloc:
      return std::malloc(op.size);
    case AllocCall::kCalloc:
      return std::calloc(1, op.size);
    case AllocCall::kPosixMemalign: {
      void* p = nullptr;
      if (posix_memalign(&p, op.align, op.size) != 0) p = nullptr;
      return p;
    }
    case AllocCall::kAlignedAlloc:
      return aligned_alloc(op.align, op.size);
    case AllocCall::kMemalign:
      return memalign(op.align, op.size);
    case AllocCall::kValloc:
      return valloc(op.size);
    default:
      return nullptr;
  }
}

// An operation as the unchecked loop reads it: 8 bytes, a quarter of a
// SlotRecord, so the loop streams little beside what the allocator touches.
// The five calls that make up nearly every log fit when the size is below
// 512 MiB; anything else (an alignment, a larger size) is kFull and read
// from the SlotRecord at the same index.
struct PackedOp {
  enum Kind : std::uint32_t {
    kMalloc = 0,
    kFree = 1,
    kRealloc = 2,
    kReallocFromNull = 3,
    kCalloc = 4,
    kFull = 7,
  };
  static constexpr int kKindBits = 3;
  static constexpr std::uint64_t kMaxSize =
      (std::uint64_t{1} << (32 - kKindBits)) - 1;

  std::uint32_t slot;
  std::uint32_t size_kind;  // size << kKindBits | Kind

  static PackedOp of(const SlotRecord& op) {
    Kind k = kFull;
    switch (op.call) {
      case AllocCall::kMalloc:
        k = kMalloc;
        break;
      case AllocCall::kFree:
        k = kFree;
        break;
      case AllocCall::kRealloc:
        k = op.from_null ? kReallocFromNull : kRealloc;
        break;
      case AllocCall::kCalloc:
        k = kCalloc;
        break;
      default:
        break;
    }
    if (op.size > kMaxSize) k = kFull;
    const auto size = static_cast<std::uint32_t>(k == kFull ? 0 : op.size);
    return PackedOp{op.slot, size << kKindBits | k};
  }
};
static_assert(sizeof(PackedOp) == 8);

void run_full(void** ptr, const SlotRecord& op);

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

// The loop a compiled program of these calls would be, plus the slot
// array's indirection: what the 1.15x target is about. Malloc and free are
// tested directly (a jump table's indirect jump cost more) and the loop is
// out of line so that it keeps its registers (inlined into replay_ops it
// reloaded the slot array's address from the stack on every call).
[[gnu::noinline]] void run_unchecked(const PackedOp* f, const SlotRecord* ops,
                                     std::size_t n, void** ptr) {
  for (std::size_t i = 0; i < n; ++i) {
    const PackedOp op = f[i];
    const std::uint32_t kind = op.size_kind & ((1u << PackedOp::kKindBits) - 1);
    if (kind == PackedOp::kMalloc) {
      ptr[op.slot] = std::malloc(op.size_kind >> PackedOp::kKindBits);
    } else if (kind == PackedOp::kFree) {
      // The slot keeps the freed address: nothing in this loop reads it
      // before the slot's next allocation overwrites it (a realloc of a
      // freed slot is kReallocFromNull), and replay_ops clears the slots
      // whose last call was a free afterwards. A store fewer per free.
      std::free(ptr[op.slot]);
    } else {
      run_rare(ptr, op, ops[i]);
    }
  }
}

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

// Reports a problem with operation `index`. `size` is the block's: the
// one asked for, or for a block found damaged at its free or realloc, the
// one it was allocated with.
struct Reporter {
  const State& s;
  const SlotRecord& op;
  std::uint64_t index;
  void operator()(Problem p, void* addr, std::uint64_t offset,
                  std::uint64_t extra = 0, std::uint64_t size = 0) const {
    s.errors->add(
        ErrorInfo{p, op.call, op.slot, index, size != 0 ? size : op.size,
                  reinterpret_cast<std::uintptr_t>(addr), offset, extra});
  }
};

inline void note_latency(Histograms& h, AllocCall call, std::uint64_t dt) {
  ++h.counts[static_cast<int>(call)][bucket(dt)];
  h.total_ticks += dt;
}

// The checked free, realloc and allocations; each returns the change in
// live bytes.
inline std::int64_t free_checked(const State& s, const SlotRecord& op,
                                 const Reporter& report, Histograms& h) {
  const std::uint32_t slot = op.slot;
  void* p = s.ptr[slot];
  const std::uint64_t n = s.size[slot];
  const std::uint64_t bad = p != nullptr ? first_bad(p, n, slot) : n;
  s.ptr[slot] = nullptr;
  s.size[slot] = 0;
  if (bad != n) {
    // Freeing a block another one overlaps could take the allocator
    // down before the report is out: leak it.
    report(Problem::kCorrupted, p, bad, 0, n);
    return -static_cast<std::int64_t>(n);
  }
  const std::uint64_t t0 = ticks();
  std::free(p);
  note_latency(h, op.call, ticks() - t0);
  return -static_cast<std::int64_t>(n);
}

inline std::int64_t realloc_checked(const State& s, const SlotRecord& op,
                                    const Reporter& report, Histograms& h) {
  const std::uint32_t slot = op.slot;
  void* old = op.from_null ? nullptr : s.ptr[slot];
  const std::uint64_t old_n = op.from_null ? 0 : s.size[slot];
  if (old != nullptr) {
    const std::uint64_t bad = first_bad(old, old_n, slot);
    if (bad != old_n) {
      report(Problem::kCorrupted, old, bad, 0, old_n);
      old = nullptr;  // leaked, as for free
    }
  }
  const std::uint64_t t0 = ticks();
  void* p = std::realloc(old, op.size);
  note_latency(h, op.call, ticks() - t0);
  if (p == nullptr && op.size != 0) {
    report(Problem::kNull, p, 0);
    s.ptr[slot] = nullptr;
    s.size[slot] = 0;
    return -static_cast<std::int64_t>(old_n);
  }
  const std::uint64_t keep = std::min(old_n, op.size);
  if (old != nullptr) {
    const std::uint64_t bad = first_bad(p, keep, slot);
    if (bad != keep) report(Problem::kReallocLost, p, bad);
  }
  const std::uint64_t align = required_alignment(op);
  if (reinterpret_cast<std::uintptr_t>(p) % align != 0)
    report(Problem::kMisaligned, p, 0, align);
  fill(p, old != nullptr ? keep : 0, op.size, slot);
  s.ptr[slot] = p;
  s.size[slot] = op.size;
  return static_cast<std::int64_t>(op.size) - static_cast<std::int64_t>(old_n);
}

inline std::int64_t allocate_checked(const State& s, const SlotRecord& op,
                                     const Reporter& report, Histograms& h) {
  const std::uint32_t slot = op.slot;
  const std::uint64_t t0 = ticks();
  void* p = allocate(op);
  note_latency(h, op.call, ticks() - t0);
  if (p == nullptr) {
    if (op.size != 0) report(Problem::kNull, p, 0);
    s.ptr[slot] = nullptr;
    s.size[slot] = 0;
    return 0;
  }
  const std::uint64_t align = required_alignment(op);
  if (reinterpret_cast<std::uintptr_t>(p) % align != 0)
    report(Problem::kMisaligned, p, 0, align);
  if (op.call == AllocCall::kCalloc) {
    const std::uint64_t nz = first_nonzero(p, op.size);
    if (nz != op.size) report(Problem::kCallocNotZero, p, nz);
  }
  fill(p, 0, op.size, slot);
  s.ptr[slot] = p;
  s.size[slot] = op.size;
  return static_cast<std::int64_t>(op.size);
}

// One operation with every check; returns the change in live bytes.
inline std::int64_t run_checked(const State& s, const SlotRecord& op,
                                std::uint64_t index, Histograms& h) {
  const Reporter report{s, op, index};
  if (op.call == AllocCall::kFree) return free_checked(s, op, report, h);
  if (op.call == AllocCall::kRealloc) return realloc_checked(s, op, report, h);
  return allocate_checked(s, op, report, h);
}

// Everything a replay touches besides the allocator's blocks, mapped and
// faulted in before measuring starts.
struct Buffers {
  Buffers(const SlotRecord* ops, std::size_t n, std::uint32_t slots,
          std::uint32_t threads, const ReplayOptions& options)
      : ptr(slots + 1),
        size(slots + 1),
        hist(threads),
        errors(std::make_unique<ErrorSink>()),
        nsamples(std::max<std::uint32_t>(options.samples, 1)),
        series(nsamples + 2),
        every(std::max<std::size_t>(n / nsamples, 1)),
        turn(options.ordered ? n : 0),
        slot_turn(options.ordered ? slots + 1 : 0),
        order(options.ordered ? n : 0),
        starts(threads + 1, 0) {
    if (options.ordered) plan_order(ops, n, slots, threads);
    if (!options.check && !options.ordered) packed.resize(n);
  }

  // Each operation's turn on its slot, and each thread's operations.
  void plan_order(const SlotRecord* ops, std::size_t n, std::uint32_t slots,
                  std::uint32_t threads) {
    Mapped<std::uint32_t> uses(slots + 1);
    for (std::size_t i = 0; i < n; ++i) {
      turn[i] = uses[ops[i].slot]++;
      ++starts[ops[i].thread + 1];
    }
    for (std::uint32_t t = 0; t < threads; ++t) starts[t + 1] += starts[t];
    std::vector<std::size_t> at(starts.begin(), starts.end() - 1);
    for (std::size_t i = 0; i < n; ++i)
      order[at[ops[i].thread]++] = static_cast<std::uint32_t>(i);
  }

  Mapped<void*> ptr;
  Mapped<std::uint64_t> size;
  Mapped<Histograms> hist;  // one per thread
  std::unique_ptr<ErrorSink> errors;
  std::uint32_t nsamples;
  Mapped<Sample> series;
  std::size_t every;  // operations between samples
  // Ordered mode: per-slot turn counters and per-thread operation lists.
  Mapped<std::uint32_t> turn;
  Mapped<std::atomic<std::uint32_t>> slot_turn;
  Mapped<std::uint32_t> order;
  std::vector<std::size_t> starts;
  Mapped<PackedOp> packed;  // the unchecked fast loop's operations
};

// Unchecked runs do not watch the blocks, so the peak of live bytes is
// the log's (what the program asked for), and `size` holds each slot's
// requested size plus one while its block is live and 0 once it is
// freed: the unchecked loop leaves freed slots stale, and they are
// cleared by this after it. The same pass packs that loop's operations.
// Returns the log's peak of live bytes.
std::uint64_t prepare_unchecked(const SlotRecord* ops, std::size_t n,
                                const ReplayOptions& options, Buffers& b) {
  std::uint64_t logged_peak_live = 0;
  std::uint64_t live = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const SlotRecord& op = ops[i];
    if (!options.ordered) b.packed[i] = PackedOp::of(op);
    std::uint64_t& held = b.size[op.slot];
    const std::uint64_t old =
        held == 0 || (op.call == AllocCall::kRealloc && op.from_null)
            ? 0
            : held - 1;
    live -= std::min(live, old);
    if (op.call == AllocCall::kFree) {
      held = 0;
    } else {
      live += op.size;
      held = op.size + 1;
    }
    logged_peak_live = std::max(logged_peak_live, live);
  }
  return logged_peak_live;
}

// What the measured loop leaves behind.
struct Progress {
  std::uint64_t live = 0;
  std::uint64_t peak_live = 0;
  std::uint64_t max_sampled = 0;  // the highest RSS sampled
  std::size_t nseries = 0;
};

// Fast mode, checked: one thread, sampling live bytes and RSS as it goes.
void run_fast_checked(const State& s, const SlotRecord* ops, std::size_t n,
                      std::uint64_t base, Buffers& b, Progress& p) {
  Histograms& h = b.hist[0];
  for (std::size_t i = 0; i < n; ++i) {
    p.live = static_cast<std::uint64_t>(static_cast<std::int64_t>(p.live) +
                                        run_checked(s, ops[i], i, h));
    p.peak_live = std::max(p.peak_live, p.live);
    if (i % b.every == 0 && p.nseries < b.nsamples) {
      const std::uint64_t rss = current_rss();
      p.max_sampled = std::max(p.max_sampled, rss);
      b.series[p.nseries++] = Sample{i, p.live, rss > base ? rss - base : 0};
    }
  }
}

// Ordered mode: one thread per recorded thread.
void run_ordered(const State& s, const SlotRecord* ops, std::uint32_t nthreads,
                 const ReplayOptions& options, Buffers& b, Progress& p) {
  std::atomic<std::int64_t> shared_live{0};
  std::atomic<std::int64_t> shared_peak{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (std::uint32_t t = 0; t < nthreads; ++t) {
    workers.emplace_back([&, t] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      Histograms& h = b.hist[t];
      for (std::size_t k = b.starts[t]; k < b.starts[t + 1]; ++k) {
        const std::uint32_t i = b.order[k];
        const SlotRecord& op = ops[i];
        // Wait for the slot's previous operation, whichever thread has
        // it: the hand-off of a block between threads.
        auto& st = b.slot_turn[op.slot];
        for (int spin = 0; st.load(std::memory_order_acquire) != b.turn[i];
             ++spin)
          if (spin > 64) std::this_thread::yield();
        if (options.check) {
          const std::int64_t d = run_checked(s, op, i, h);
          const std::int64_t now =
              shared_live.fetch_add(d, std::memory_order_relaxed) + d;
          std::int64_t peak = shared_peak.load(std::memory_order_relaxed);
          while (now > peak && !shared_peak.compare_exchange_weak(peak, now)) {
          }
        } else {
          run_full(s.ptr, op);
        }
        st.store(b.turn[i] + 1, std::memory_order_release);
      }
    });
  }
  go.store(true, std::memory_order_release);
  for (auto& w : workers) w.join();
  p.live = static_cast<std::uint64_t>(shared_live.load());
  p.peak_live = static_cast<std::uint64_t>(shared_peak.load());
}

// Checked runs, at the end: blocks still live must still hold their
// patterns, and the threads' latency histograms are merged.
void finish_checked(std::size_t n, std::uint32_t slots, std::uint32_t nthreads,
                    double ns_per_tick, Buffers& b, ReplayResult& r) {
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    if (b.ptr[slot] == nullptr) continue;
    const std::uint64_t bad = first_bad(b.ptr[slot], b.size[slot], slot);
    if (bad != b.size[slot])
      b.errors->add(ErrorInfo{
          Problem::kCorruptedAtEnd, AllocCall::kMalloc, slot, n, b.size[slot],
          reinterpret_cast<std::uintptr_t>(b.ptr[slot]), bad, 0});
  }
  std::uint64_t total_ticks = 0;
  for (int c = 0; c < kAllocCallCount; ++c) {
    std::vector<std::uint64_t> merged(kBuckets, 0);
    for (std::uint32_t t = 0; t < nthreads; ++t)
      for (int k = 0; k < kBuckets; ++k) merged[k] += b.hist[t].counts[c][k];
    r.latency[c] = percentiles(merged.data(), ns_per_tick);
  }
  for (std::uint32_t t = 0; t < nthreads; ++t)
    total_ticks += b.hist[t].total_ticks;
  r.call_seconds = static_cast<double>(total_ticks) * ns_per_tick / 1e9;
}

// Blocks still live are freed now, after every figure is taken, so a
// replay inside a longer-lived process (a benchmark, a test) leaves its
// heap as it found it. Damaged ones are leaked: freeing them could take
// the allocator down.
void free_live_blocks(std::uint32_t slots, bool checked, Buffers& b) {
  for (std::uint32_t slot = 0; slot < slots; ++slot)
    if (b.ptr[slot] != nullptr &&
        (!checked ||
         first_bad(b.ptr[slot], b.size[slot], slot) == b.size[slot]))
      std::free(b.ptr[slot]);
}

}  // namespace

ReplayResult replay_here(const SlotLog& log, const ReplayOptions& options) {
  Mapped<SlotRecord> ops(log.ops.size());
  std::copy(log.ops.begin(), log.ops.end(), ops.data());
  return replay_ops(ops.data(), ops.size(), log.slots, log.threads, options);
}

ReplayResult replay_ops(const SlotRecord* ops, std::size_t n,
                        std::uint32_t slots, std::uint32_t threads,
                        const ReplayOptions& options) {
  ReplayResult r;
  r.mode = options.ordered ? "ordered" : "fast";
  r.checked = options.check;
  r.operations = n;
  r.slots = slots;
  r.threads = options.ordered ? std::max<std::uint32_t>(threads, 1) : 1;

  // Everything the loop touches is mapped and faulted in now, then the
  // RSS high-water mark is reset: none of it counts.
  Buffers b(ops, n, slots, r.threads, options);
  const std::uint64_t logged_peak_live =
      options.check ? 0 : prepare_unchecked(ops, n, options, b);
  const State s{b.ptr.data(), b.size.data(), b.errors.get()};

  const bool hwm_reset = reset_peak_rss();
  const std::uint64_t base = current_rss();
  Progress p;
  p.max_sampled = base;

  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t tick0 = ticks();
  if (options.ordered)
    run_ordered(s, ops, r.threads, options, b, p);
  else if (options.check)
    run_fast_checked(s, ops, n, base, b, p);
  else
    run_unchecked(b.packed.data(), ops, n, b.ptr.data());
  const std::uint64_t tick1 = ticks();
  const auto t1 = std::chrono::steady_clock::now();
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (b.packed.size() != 0)
    for (std::uint32_t slot = 0; slot < slots; ++slot)
      if (b.size[slot] == 0) b.ptr[slot] = nullptr;
  const double ns_per_tick =
      tick1 > tick0 ? r.seconds * 1e9 / static_cast<double>(tick1 - tick0) : 0;

  const std::uint64_t end_rss = current_rss();
  p.max_sampled = std::max(p.max_sampled, end_rss);
  const std::uint64_t hwm = hwm_reset ? peak_rss() : 0;
  r.peak_rss = std::max(hwm, p.max_sampled) - base;
  r.final_rss = end_rss > base ? end_rss - base : 0;
  r.peak_live = options.check ? p.peak_live : logged_peak_live;
  if (options.check) {
    b.series[p.nseries++] = Sample{n, p.live, r.final_rss};
    finish_checked(n, slots, r.threads, ns_per_tick, b, r);
  }
  r.series.assign(b.series.data(), b.series.data() + p.nseries);
  r.error_count = b.errors->count;
  for (std::uint64_t i = 0;
       i < std::min<std::uint64_t>(b.errors->count, kKeptErrors); ++i)
    r.errors.push_back(describe(b.errors->first[i]));
  free_live_blocks(slots, options.check, b);
  return r;
}

}  // namespace weft::replay
