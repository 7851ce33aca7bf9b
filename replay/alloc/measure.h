// How a replay is measured; shared by replay/alloc's own files only (the
// engine, the child), not an interface. Arrays in memory the allocator
// under test never sees, RSS, time stamps and latency histograms.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "replay/alloc/replay.h"

namespace weft::replay::internal {

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
  void clear() { size_ = 0; }
  void push_back(const T& v) {
    if (size_ == cap_) reserve(cap_ == 0 ? 4096 : cap_ * 2);
    data_[size_++] = v;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  // What it holds, in bytes (all of it written, so resident).
  std::size_t used_bytes() const { return size_ * sizeof(T); }
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

std::uint64_t current_rss();
std::uint64_t peak_rss();  // VmHWM
// Resets VmHWM to the current RSS (Linux 4.0+), so the peak measured is
// the replay's and not the loading's.
bool reset_peak_rss();

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

// Latency over time: every call of a window in one coarse histogram, 8
// buckets per power of 2 up to 2^32 ticks (about 9% resolution).
constexpr int kCoarse = 256;
inline int coarse_bucket(std::uint64_t v) {
  if (v < 8) return static_cast<int>(v);
  const int m = 63 - std::countl_zero(v);
  return std::min(kCoarse - 1, m * 8 + static_cast<int>((v >> (m - 3)) & 7));
}
double coarse_value(int i);  // a bucket's middle, in ticks

// One replay thread's: per call, the fine histogram (read once the
// threads are done); the coarse histogram of every call, the operations
// done, read by the sampler while the thread runs (written only by the
// thread, with relaxed stores: no read-modify-write on the hot path).
struct Histograms {
  std::uint64_t counts[kAllocCallCount][kBuckets];
  std::uint64_t total_ticks;
  std::atomic<std::uint64_t> coarse[kCoarse];
  alignas(64) std::atomic<std::uint64_t> done;
};

inline void bump(std::atomic<std::uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// --- the replay's clock ------------------------------------------------------

// Nanoseconds of replay: wall time since start() minus the pauses
// (decoding the next chunk of the log is not replay time).
class ReplayClock {
 public:
  void start() { start_ = now(); }
  std::uint64_t ns() const {
    return now() - start_ - paused_.load(std::memory_order_relaxed);
  }
  void pause() { pause_at_ = now(); }
  void resume() {
    paused_.fetch_add(now() - pause_at_, std::memory_order_relaxed);
  }
  static std::uint64_t now() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

 private:
  std::uint64_t start_ = 0;
  std::uint64_t pause_at_ = 0;
  std::atomic<std::uint64_t> paused_{0};
};

// --- the series --------------------------------------------------------------

// Live bytes, RSS and latency over a replay of unknown length: points are
// added at a spacing (in operations or in time) that doubles whenever
// twice the number asked for are held, every other one being dropped, so
// between n and 2n points remain, evenly spaced, in fixed memory. Each
// point keeps the coarse latency histogram summed up to it; a window's
// percentiles are the difference between two kept points.
class Series {
 public:
  explicit Series(std::uint32_t n);
  // Adds a point; true if the caller should double its spacing. The
  // last point is never dropped.
  bool add(Sample s, const Histograms* threads, std::uint32_t nthreads,
           bool last = false);
  // The points, with each window's p50 and p99 in nanoseconds.
  std::vector<Sample> finish(double ns_per_tick) const;

 private:
  using Cumulative = std::array<std::uint64_t, kCoarse>;
  std::size_t cap_;
  std::size_t n_ = 0;
  Mapped<Sample> points_;
  Mapped<Cumulative> sums_;
};

// The percentiles of one call's histogram, in nanoseconds.
Latency percentiles(const std::uint64_t* counts, double ns_per_tick);

}  // namespace weft::replay::internal
