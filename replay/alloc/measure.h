// How a replay is measured; shared by replay/alloc's own files only (the
// engine, the child), not an interface. Arrays in memory the allocator
// under test never sees, RSS, time stamps and latency histograms.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <new>

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

struct Histograms {
  std::uint64_t counts[kAllocCallCount][kBuckets];
  std::uint64_t total_ticks;
};

// The percentiles of one call's histogram, in nanoseconds.
Latency percentiles(const std::uint64_t* counts, double ns_per_tick);

}  // namespace weft::replay::internal
