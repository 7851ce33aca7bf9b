#include "replay/alloc/replay.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <variant>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "traces/reader.h"

extern char** environ;

namespace weft::replay {
namespace {

// --- memory the allocator under test never sees ------------------------

// A growable array in its own anonymous mapping.
template <class T>
class Mapped {
 public:
  Mapped() = default;
  explicit Mapped(std::size_t n) { resize(n); }
  ~Mapped() {
    if (data_ != nullptr) munmap(data_, bytes(cap_));
  }
  Mapped(const Mapped&) = delete;
  Mapped& operator=(const Mapped&) = delete;

  // Grows to n elements, zeroed and faulted in now (not when the
  // measured loop first touches them).
  void resize(std::size_t n) {
    reserve(n);
    if (n > size_)
      std::memset(static_cast<void*>(data_ + size_), 0,
                  (n - size_) * sizeof(T));
    size_ = n;
  }
  void push_back(const T& v) {
    if (size_ == cap_) reserve(cap_ == 0 ? 4096 : cap_ * 2);
    data_[size_++] = v;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  static std::size_t bytes(std::size_t n) {
    const std::size_t page = 4096;
    return std::max<std::size_t>(page,
                                 (n * sizeof(T) + page - 1) / page * page);
  }
  void reserve(std::size_t n) {
    if (n <= cap_) return;
    void* p;
    if (data_ == nullptr)
      p = mmap(nullptr, bytes(n), PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    else
      p = mremap(data_, bytes(cap_), bytes(n), MREMAP_MAYMOVE);
    if (p == MAP_FAILED) throw std::bad_alloc();
    // Large arrays are streamed through once per operation: huge pages
    // spare the loop a TLB miss every 4 KiB.
    if (bytes(n) >= (2u << 20)) madvise(p, bytes(n), MADV_HUGEPAGE);
    data_ = static_cast<T*>(p);
    cap_ = n;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// --- RSS -----------------------------------------------------------------

std::uint64_t current_rss() {
  static const long page = sysconf(_SC_PAGESIZE);
  char buf[128];
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(page);
}

std::uint64_t peak_rss() {  // VmHWM
  char buf[4096];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strstr(buf, "VmHWM:");
  if (p == nullptr) return 0;
  return std::strtoull(p + 6, nullptr, 10) * 1024;
}

// Resets VmHWM to the current RSS (Linux 4.0+), so the peak measured is
// the replay's and not the loading's.
bool reset_peak_rss() {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

// --- time ------------------------------------------------------------------

inline std::uint64_t ticks() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

// Latency histogram over ticks: 32 linear buckets, then 32 per power of 2
// (about 3% resolution).
constexpr int kBuckets = 32 + 59 * 32;
inline int bucket(std::uint64_t v) {
  if (v < 32) return static_cast<int>(v);
  const int m = 63 - std::countl_zero(v);
  return 32 + (m - 5) * 32 + static_cast<int>((v >> (m - 5)) & 31);
}
inline double bucket_value(int i) {
  if (i < 32) return i;
  const int m = (i - 32) / 32 + 5;
  const int sub = (i - 32) % 32;
  return std::ldexp(32.0 + sub + 0.5, m - 5);
}

struct Histograms {
  std::uint64_t counts[kAllocCallCount][kBuckets];
  std::uint64_t total_ticks;
};

// --- patterns --------------------------------------------------------------

inline std::uint64_t pattern(std::uint32_t slot) {
  return (static_cast<std::uint64_t>(slot) + 1) * 0x9E3779B97F4A7C15ull;
}

void fill(void* p, std::uint64_t from, std::uint64_t n, std::uint32_t slot) {
  const std::uint64_t w = pattern(slot);
  auto* c = static_cast<unsigned char*>(p);
  std::uint64_t i = from;
  for (; i < n && (i & 7) != 0; ++i)
    c[i] = static_cast<unsigned char>(w >> (8 * (i & 7)));
  for (; i + 8 <= n; i += 8) std::memcpy(c + i, &w, 8);
  for (; i < n; ++i) c[i] = static_cast<unsigned char>(w >> (8 * (i & 7)));
}

// The offset of the first byte that differs from the slot's pattern, or
// n if none does.
std::uint64_t first_bad(const void* p, std::uint64_t n, std::uint32_t slot) {
  const std::uint64_t w = pattern(slot);
  const auto* c = static_cast<const unsigned char*>(p);
  std::uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, c + i, 8);
    if (v != w) break;
  }
  for (; i < n; ++i)
    if (c[i] != static_cast<unsigned char>(w >> (8 * (i & 7)))) return i;
  return n;
}

std::uint64_t first_nonzero(const void* p, std::uint64_t n) {
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::uint64_t i = 0; i < n; ++i)
    if (c[i] != 0) return i;
  return n;
}

// The alignment a result must have: the requested one, else what C
// guarantees for malloc (alignof(max_align_t)) as far as the size allows.
inline std::uint64_t required_alignment(const SlotRecord& op) {
  if (op.align != 0) return op.align;
  if (op.size == 0) return 1;
  return std::min<std::uint64_t>(alignof(std::max_align_t),
                                 std::bit_floor(op.size));
}

// --- errors ----------------------------------------------------------------

enum class Problem : std::uint8_t {
  kNull,
  kMisaligned,
  kCallocNotZero,
  kCorrupted,
  kReallocLost,
  kCorruptedAtEnd,
};

struct ErrorInfo {
  Problem problem;
  AllocCall call;
  std::uint32_t slot;
  std::uint64_t op;
  std::uint64_t size;
  std::uint64_t addr;
  std::uint64_t offset;
  std::uint64_t extra;  // the alignment asked for
};

constexpr std::size_t kKeptErrors = 16;

struct ErrorSink {
  std::mutex mu;
  std::uint64_t count = 0;
  ErrorInfo first[kKeptErrors];
  void add(const ErrorInfo& e) {
    std::lock_guard g(mu);
    if (count < kKeptErrors) first[count] = e;
    ++count;
  }
};

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string describe(const ErrorInfo& e) {
  std::string where = "operation " + std::to_string(e.op) + " (" +
                      call_name(e.call) + " of " + std::to_string(e.size) +
                      " bytes, slot " + std::to_string(e.slot) + ")";
  switch (e.problem) {
    case Problem::kNull:
      return where + ": returned NULL, though the recorded call succeeded";
    case Problem::kMisaligned:
      return where + ": result " + hex(e.addr) + " is not aligned to " +
             std::to_string(e.extra) + " bytes";
    case Problem::kCallocNotZero:
      return where + ": calloc memory at " + hex(e.addr) +
             " is not zero at "
             "byte " +
             std::to_string(e.offset);
    case Problem::kCorrupted:
      return where + ": the block at " + hex(e.addr) + " was changed at byte " +
             std::to_string(e.offset) +
             " while it was live: the allocator handed out memory that "
             "overlaps it, or handed it out again before its free";
    case Problem::kReallocLost:
      return where + ": realloc to " + hex(e.addr) +
             " did not keep the block's contents (byte " +
             std::to_string(e.offset) + " differs)";
    case Problem::kCorruptedAtEnd:
      return "at the end, slot " + std::to_string(e.slot) + " (block of " +
             std::to_string(e.size) + " bytes at " + hex(e.addr) +
             ") was changed at byte " + std::to_string(e.offset) +
             ": the allocator handed out overlapping memory";
  }
  return where;
}

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

// One operation with every check; returns the change in live bytes.
inline std::int64_t run_checked(const State& s, const SlotRecord& op,
                                std::uint64_t index, Histograms& h) {
  const std::uint32_t slot = op.slot;
  // `size` is the block's: the one asked for, or for a block found damaged
  // at its free or realloc, the one it was allocated with.
  auto report = [&](Problem p, void* addr, std::uint64_t offset,
                    std::uint64_t extra = 0, std::uint64_t size = 0) {
    s.errors->add(ErrorInfo{p, op.call, slot, index, size != 0 ? size : op.size,
                            reinterpret_cast<std::uintptr_t>(addr), offset,
                            extra});
  };
  if (op.call == AllocCall::kFree) {
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
    const std::uint64_t dt = ticks() - t0;
    ++h.counts[static_cast<int>(op.call)][bucket(dt)];
    h.total_ticks += dt;
    return -static_cast<std::int64_t>(n);
  }
  if (op.call == AllocCall::kRealloc) {
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
    const std::uint64_t dt = ticks() - t0;
    ++h.counts[static_cast<int>(op.call)][bucket(dt)];
    h.total_ticks += dt;
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
    return static_cast<std::int64_t>(op.size) -
           static_cast<std::int64_t>(old_n);
  }
  const std::uint64_t t0 = ticks();
  void* p = allocate(op);
  const std::uint64_t dt = ticks() - t0;
  ++h.counts[static_cast<int>(op.call)][bucket(dt)];
  h.total_ticks += dt;
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

Latency percentiles(const std::uint64_t* counts, double ns_per_tick) {
  Latency l;
  for (int i = 0; i < kBuckets; ++i) l.count += counts[i];
  if (l.count == 0) return l;
  const double qs[4] = {0.5, 0.9, 0.99, 0.999};
  double* outs[4] = {&l.p50, &l.p90, &l.p99, &l.p999};
  int q = 0;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (counts[i] == 0) continue;
    seen += counts[i];
    while (q < 4 &&
           static_cast<double>(seen) >= qs[q] * static_cast<double>(l.count)) {
      *outs[q] = bucket_value(i) * ns_per_tick;
      ++q;
    }
    l.max = bucket_value(i) * ns_per_tick;
  }
  return l;
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
  Mapped<void*> ptr(slots + 1);
  Mapped<std::uint64_t> size(slots + 1);
  const std::uint32_t nthreads = r.threads;
  Mapped<Histograms> hist(nthreads);
  auto errors = std::make_unique<ErrorSink>();
  const std::uint32_t nsamples = std::max<std::uint32_t>(options.samples, 1);
  Mapped<Sample> series(nsamples + 2);
  // Ordered mode: per-slot turn counters and per-thread operation lists.
  Mapped<std::uint32_t> turn(options.ordered ? n : 0);
  Mapped<std::atomic<std::uint32_t>> slot_turn(options.ordered ? slots + 1 : 0);
  Mapped<std::uint32_t> order(options.ordered ? n : 0);
  std::vector<std::size_t> starts(nthreads + 1, 0);
  if (options.ordered) {
    Mapped<std::uint32_t> uses(slots + 1);
    for (std::size_t i = 0; i < n; ++i) {
      turn[i] = uses[ops[i].slot]++;
      ++starts[ops[i].thread + 1];
    }
    for (std::uint32_t t = 0; t < nthreads; ++t) starts[t + 1] += starts[t];
    std::vector<std::size_t> at(starts.begin(), starts.end() - 1);
    for (std::size_t i = 0; i < n; ++i)
      order[at[ops[i].thread]++] = static_cast<std::uint32_t>(i);
  }
  Mapped<PackedOp> packed(!options.check && !options.ordered ? n : 0);
  // Unchecked runs do not watch the blocks, so the peak of live bytes is
  // the log's (what the program asked for), and `size` holds each slot's
  // requested size plus one while its block is live and 0 once it is
  // freed: the unchecked loop leaves freed slots stale, and they are
  // cleared by this after it. The same pass packs that loop's operations.
  std::uint64_t logged_peak_live = 0;
  if (!options.check) {
    std::uint64_t live = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const SlotRecord& op = ops[i];
      if (!options.ordered) packed[i] = PackedOp::of(op);
      std::uint64_t& held = size[op.slot];
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
  }
  State s;
  s.ptr = ptr.data();
  s.size = size.data();
  s.errors = errors.get();

  const bool hwm_reset = reset_peak_rss();
  const std::uint64_t base = current_rss();
  std::uint64_t max_sampled = base;
  std::uint64_t live = 0;
  std::uint64_t peak_live = 0;
  std::size_t nseries = 0;
  const std::size_t every = std::max<std::size_t>(n / nsamples, 1);

  const auto t0 = std::chrono::steady_clock::now();
  const std::uint64_t tick0 = ticks();
  if (!options.ordered) {
    Histograms& h = hist[0];
    if (options.check) {
      for (std::size_t i = 0; i < n; ++i) {
        live = static_cast<std::uint64_t>(static_cast<std::int64_t>(live) +
                                          run_checked(s, ops[i], i, h));
        peak_live = std::max(peak_live, live);
        if (i % every == 0 && nseries < nsamples) {
          const std::uint64_t rss = current_rss();
          max_sampled = std::max(max_sampled, rss);
          series[nseries++] = Sample{i, live, rss > base ? rss - base : 0};
        }
      }
    } else {
      run_unchecked(packed.data(), ops, n, ptr.data());
    }
  } else {
    std::atomic<std::int64_t> shared_live{0};
    std::atomic<std::int64_t> shared_peak{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (std::uint32_t t = 0; t < nthreads; ++t) {
      workers.emplace_back([&, t] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        Histograms& h = hist[t];
        for (std::size_t k = starts[t]; k < starts[t + 1]; ++k) {
          const std::uint32_t i = order[k];
          const SlotRecord& op = ops[i];
          // Wait for the slot's previous operation, whichever thread has
          // it: the hand-off of a block between threads.
          auto& st = slot_turn[op.slot];
          for (int spin = 0; st.load(std::memory_order_acquire) != turn[i];
               ++spin)
            if (spin > 64) std::this_thread::yield();
          if (options.check) {
            const std::int64_t d = run_checked(s, op, i, h);
            const std::int64_t now =
                shared_live.fetch_add(d, std::memory_order_relaxed) + d;
            std::int64_t peak = shared_peak.load(std::memory_order_relaxed);
            while (now > peak &&
                   !shared_peak.compare_exchange_weak(peak, now)) {
            }
          } else {
            run_full(s.ptr, op);
          }
          st.store(turn[i] + 1, std::memory_order_release);
        }
      });
    }
    go.store(true, std::memory_order_release);
    for (auto& w : workers) w.join();
    live = static_cast<std::uint64_t>(shared_live.load());
    peak_live = static_cast<std::uint64_t>(shared_peak.load());
  }
  const std::uint64_t tick1 = ticks();
  const auto t1 = std::chrono::steady_clock::now();
  r.seconds = std::chrono::duration<double>(t1 - t0).count();
  if (packed.size() != 0)
    for (std::uint32_t slot = 0; slot < slots; ++slot)
      if (size[slot] == 0) ptr[slot] = nullptr;
  const double ns_per_tick =
      tick1 > tick0 ? r.seconds * 1e9 / static_cast<double>(tick1 - tick0) : 0;

  const std::uint64_t end_rss = current_rss();
  max_sampled = std::max(max_sampled, end_rss);
  const std::uint64_t hwm = hwm_reset ? peak_rss() : 0;
  r.peak_rss = std::max(hwm, max_sampled) - base;
  r.final_rss = end_rss > base ? end_rss - base : 0;
  r.peak_live = options.check ? peak_live : logged_peak_live;
  if (options.check) {
    series[nseries++] = Sample{n, live, r.final_rss};
    // Blocks still live at the end must still hold their patterns.
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
      if (ptr[slot] == nullptr) continue;
      const std::uint64_t bad = first_bad(ptr[slot], size[slot], slot);
      if (bad != size[slot])
        errors->add(ErrorInfo{
            Problem::kCorruptedAtEnd, AllocCall::kMalloc, slot, n, size[slot],
            reinterpret_cast<std::uintptr_t>(ptr[slot]), bad, 0});
    }
    std::uint64_t total_ticks = 0;
    for (int c = 0; c < kAllocCallCount; ++c) {
      std::vector<std::uint64_t> merged(kBuckets, 0);
      for (std::uint32_t t = 0; t < nthreads; ++t)
        for (int b = 0; b < kBuckets; ++b) merged[b] += hist[t].counts[c][b];
      r.latency[c] = percentiles(merged.data(), ns_per_tick);
    }
    for (std::uint32_t t = 0; t < nthreads; ++t)
      total_ticks += hist[t].total_ticks;
    r.call_seconds = static_cast<double>(total_ticks) * ns_per_tick / 1e9;
  }
  r.series.assign(series.data(), series.data() + nseries);
  r.error_count = errors->count;
  for (std::uint64_t i = 0;
       i < std::min<std::uint64_t>(errors->count, kKeptErrors); ++i)
    r.errors.push_back(describe(errors->first[i]));
  // Blocks still live are freed now, after every figure is taken, so a
  // replay inside a longer-lived process (a benchmark, a test) leaves its
  // heap as it found it. Damaged ones are leaked: freeing them could take
  // the allocator down.
  for (std::uint32_t slot = 0; slot < slots; ++slot)
    if (ptr[slot] != nullptr &&
        (!options.check ||
         first_bad(ptr[slot], size[slot], slot) == size[slot]))
      std::free(ptr[slot]);
  return r;
}

std::string allocator_library(const std::string& allocator) {
  if (allocator == "glibc" || allocator.empty()) return "";
  const char* dir = "/usr/lib/x86_64-linux-gnu/";
  std::vector<std::string> candidates;
  if (allocator == "jemalloc")
    candidates = {"libjemalloc.so.2"};
  else if (allocator == "mimalloc")
    candidates = {"libmimalloc.so.2"};
  else if (allocator == "tcmalloc")
    candidates = {"libtcmalloc_minimal.so.4", "libtcmalloc.so.4"};
  else if (allocator.find('/') != std::string::npos ||
           allocator.find(".so") != std::string::npos)
    return allocator;
  else
    throw std::runtime_error("unknown allocator '" + allocator +
                             "': glibc, jemalloc, mimalloc, tcmalloc, or a "
                             "path to a .so (with a '/')");
  for (const auto& c : candidates)
    if (access((dir + c).c_str(), R_OK) == 0) return dir + c;
  throw std::runtime_error("allocator " + allocator + " is not installed (" +
                           dir + candidates[0] + "); .ci/setup installs it");
}

std::string replayer_program() {
  if (const char* env = std::getenv("WEFT_ALLOC_REPLAYER"))
    if (*env != '\0') return env;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    if (access((dir + "weft-alloc-replayer").c_str(), X_OK) == 0)
      return dir + "weft-alloc-replayer";
  }
#ifdef WEFT_ALLOC_REPLAYER_PATH
  return WEFT_ALLOC_REPLAYER_PATH;
#else
  return "weft-alloc-replayer";
#endif
}

ReplayResult replay_in_child(const std::string& log_path,
                             const std::string& allocator,
                             const ReplayOptions& options) {
  ReplayResult failed;
  failed.allocator = allocator;
  failed.mode = options.ordered ? "ordered" : "fast";
  failed.checked = options.check;
  std::string lib;
  try {
    lib = allocator_library(allocator);
  } catch (const std::exception& e) {
    failed.failure = e.what();
    return failed;
  }
  if (!lib.empty() && access(lib.c_str(), R_OK) != 0) {
    failed.failure = "cannot read allocator library " + lib;
    return failed;
  }
  const std::string program = replayer_program();
  std::vector<std::string> args = {program, "--samples",
                                   std::to_string(options.samples)};
  if (options.ordered) args.push_back("--ordered");
  if (!options.check) args.push_back("--no-check");
  args.push_back(log_path);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) env.emplace_back(*e);
  if (!lib.empty()) env.push_back("LD_PRELOAD=" + lib);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    failed.failure = std::string("pipe: ") + std::strerror(errno);
    return failed;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    failed.failure = std::string("fork: ") + std::strerror(errno);
    return failed;
  }
  if (pid == 0) {
    dup2(out[1], 1);
    execve(program.c_str(), argv.data(), envp.data());
    const char msg[] = "weft: cannot run weft-alloc-replayer\n";
    [[maybe_unused]] auto w = ::write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    failed.failure = "the replayer died of signal " +
                     std::to_string(WTERMSIG(status)) + " (" +
                     strsignal(WTERMSIG(status)) + ") under " + allocator +
                     ": the allocator crashed or corrupted memory";
    return failed;
  }
  if (!WIFEXITED(status) ||
      (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) {
    failed.failure = program + " exited with status " +
                     std::to_string(WEXITSTATUS(status)) + " under " +
                     allocator;
    return failed;
  }
  try {
    ReplayResult r = from_json(text);
    r.allocator = allocator;
    r.user_seconds = static_cast<double>(usage.ru_utime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec) / 1e6;
    r.sys_seconds = static_cast<double>(usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_stime.tv_usec) / 1e6;
    r.page_faults = static_cast<std::uint64_t>(usage.ru_majflt);
    r.page_reclaims = static_cast<std::uint64_t>(usage.ru_minflt);
    return r;
  } catch (const std::exception& e) {
    failed.failure =
        std::string("unreadable result from the replayer: ") + e.what();
    return failed;
  }
}

std::string to_json(const ReplayResult& r) {
  nlohmann::json j;
  j["allocator"] = r.allocator;
  j["mode"] = r.mode;
  j["checked"] = r.checked;
  j["threads"] = r.threads;
  j["operations"] = r.operations;
  j["slots"] = r.slots;
  j["seconds"] = r.seconds;
  j["call_seconds"] = r.call_seconds;
  j["peak_rss"] = r.peak_rss;
  j["final_rss"] = r.final_rss;
  j["peak_live"] = r.peak_live;
  j["error_count"] = r.error_count;
  j["errors"] = r.errors;
  j["failure"] = r.failure;
  j["bad_input"] = r.bad_input;
  auto& lat = j["latency"];
  for (int c = 0; c < kAllocCallCount; ++c) {
    const Latency& l = r.latency[c];
    lat.push_back({l.count, l.p50, l.p90, l.p99, l.p999, l.max});
  }
  auto& ser = j["series"];
  ser = nlohmann::json::array();
  for (const auto& s : r.series)
    ser.push_back({s.op, s.live_bytes, s.rss_bytes});
  return j.dump();
}

ReplayResult from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  ReplayResult r;
  r.allocator = j.at("allocator").get<std::string>();
  r.mode = j.at("mode").get<std::string>();
  r.checked = j.at("checked").get<bool>();
  r.threads = j.at("threads").get<std::uint32_t>();
  r.operations = j.at("operations").get<std::uint64_t>();
  r.slots = j.at("slots").get<std::uint64_t>();
  r.seconds = j.at("seconds").get<double>();
  r.call_seconds = j.at("call_seconds").get<double>();
  r.peak_rss = j.at("peak_rss").get<std::uint64_t>();
  r.final_rss = j.at("final_rss").get<std::uint64_t>();
  r.peak_live = j.at("peak_live").get<std::uint64_t>();
  r.error_count = j.at("error_count").get<std::uint64_t>();
  r.errors = j.at("errors").get<std::vector<std::string>>();
  r.failure = j.at("failure").get<std::string>();
  r.bad_input = j.value("bad_input", false);
  const auto& lat = j.at("latency");
  for (int c = 0; c < kAllocCallCount && c < static_cast<int>(lat.size());
       ++c) {
    const auto& l = lat[static_cast<std::size_t>(c)];
    r.latency[c] = Latency{l[0].get<std::uint64_t>(), l[1].get<double>(),
                           l[2].get<double>(),        l[3].get<double>(),
                           l[4].get<double>(),        l[5].get<double>()};
  }
  for (const auto& s : j.at("series"))
    r.series.push_back(Sample{s[0].get<std::uint64_t>(),
                              s[1].get<std::uint64_t>(),
                              s[2].get<std::uint64_t>()});
  return r;
}

void print_report(const ReplayResult& r, std::ostream& out) {
  out << "allocator      " << r.allocator << "\n";
  if (!r.failure.empty()) {
    out << "FAILED         " << r.failure << "\n";
    return;
  }
  if (r.mode == "fast")
    out << "mode           fast: one thread, every operation in recorded "
           "global order, as fast as possible\n";
  else
    out << "mode           ordered: " << r.threads
        << (r.threads == 1 ? " thread" : " threads")
        << ", one per recorded thread, each in its recorded order "
           "(blocks handed between threads wait for each other)\n";
  out << "checks         "
      << (r.checked ? "on (patterns, calloc zeros, alignment; speed "
                      "includes them, latency does not)"
                    : "off (--no-check: pure speed, no latency)")
      << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "operations     %llu in %.3f s: %.0f ops/s",
                static_cast<unsigned long long>(r.operations), r.seconds,
                r.ops_per_second());
  out << line;
  if (r.checked && r.call_seconds > 0) {
    std::snprintf(line, sizeof line,
                  " (%.0f ops/s counting allocator calls "
                  "only)",
                  static_cast<double>(r.operations) / r.call_seconds);
    out << line;
  }
  out << "\n";
  std::snprintf(line, sizeof line,
                "slots          %llu (the peak number of live blocks)\n",
                static_cast<unsigned long long>(r.slots));
  out << line;
  const auto mib = [](std::uint64_t b) {
    return static_cast<double>(b) / (1024.0 * 1024.0);
  };
  std::snprintf(line, sizeof line,
                "peak RSS       %.2f MiB\nfinal RSS      %.2f MiB\n"
                "peak live      %.2f MiB requested\n",
                mib(r.peak_rss), mib(r.final_rss), mib(r.peak_live));
  out << line;
  if (r.peak_live > 0) {
    std::snprintf(line, sizeof line,
                  "fragmentation  %.2f (peak RSS / peak live)\n",
                  r.fragmentation());
    out << line;
    // Unchecked, nothing writes the blocks: pages the program would have
    // written may never be resident, so RSS (and this ratio) can be low.
    if (!r.checked)
      out << "               (--no-check leaves blocks untouched: RSS counts "
             "only the pages the allocator wrote)\n";
  }
  if (r.checked) {
    out << "latency (ns)   call            count      p50      p90      p99"
           "    p99.9      max\n";
    for (int c = 0; c < kAllocCallCount; ++c) {
      const Latency& l = r.latency[c];
      if (l.count == 0) continue;
      std::snprintf(
          line, sizeof line,
          "               %-14s %6llu %8.0f %8.0f %8.0f %8.0f %8.0f\n",
          call_name(static_cast<AllocCall>(c)),
          static_cast<unsigned long long>(l.count), l.p50, l.p90, l.p99, l.p999,
          l.max);
      out << line;
    }
  }
  if (r.error_count == 0) {
    out << (r.checked ? "blocks         all checked, none damaged\n" : "");
  } else {
    out << "ERRORS         " << r.error_count << "\n";
    for (const auto& e : r.errors) out << "  " << e << "\n";
  }
}

int replayer_main(int argc, char** argv) {
  ReplayOptions options;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ordered")
      options.ordered = true;
    else if (a == "--no-check")
      options.check = false;
    else if (a == "--samples" && i + 1 < argc)
      options.samples = static_cast<std::uint32_t>(std::stoul(argv[++i]));
    else
      path = a;
  }
  if (path.empty()) {
    std::cerr << "usage: weft-alloc-replayer [--ordered] [--no-check] "
                 "[--samples N] slots-log\n"
                 "(run by `weft alloc replay`; prints its result as JSON)\n";
    return 2;
  }
  ReplayResult r;
  try {
    // Read straight into mapped memory: the allocator under test (already
    // preloaded) should not start the replay holding the log's pages.
    Mapped<SlotRecord> ops;
    SlotLogShape shape;
    for (const SlotRecord& op : read_slots(path, &shape)) ops.push_back(op);
    r = replay_ops(ops.data(), ops.size(), shape.slots, shape.threads, options);
  } catch (const traces::TraceError& e) {
    r.failure = e.what();
    r.bad_input = true;
    r.mode = options.ordered ? "ordered" : "fast";
    r.checked = options.check;
  } catch (const std::exception& e) {
    r.failure = e.what();
    r.mode = options.ordered ? "ordered" : "fast";
    r.checked = options.check;
  }
  std::cout << to_json(r) << std::endl;
  return r.ok() ? 0 : 1;
}

}  // namespace weft::replay
