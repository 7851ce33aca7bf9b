// Where an Atomic<T> keeps its value, and how it is recorded on real
// threads (docs/architecture.md, "Recording real threads"). The plain
// operations are std::atomic's, each one atomic operation; the recorded
// ones log the operation with the object's version. An integer, bool or
// enum of up to 32 bits is packed with its version in one 64-bit word, so
// a recorded write is one read-modify-write and a recorded read one load;
// any other T keeps a std::atomic<T> beside an ObjectTag (a lock bit).
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "sim/flight.h"

namespace weft::sim::internal {

template <class T>
inline constexpr bool kPackedAtomic = (std::is_integral_v<T> ||
                                       std::is_enum_v<T>)&&sizeof(T) <= 4;

// The word: the value in the top 8 * sizeof(T) bits (a carry out of it is
// lost, as a T's), the version in bits 0..30 (the number of recorded
// writes, modulo 2^31: flight::kVersionMask) and bit 31 a guard that takes
// the carry of a fetch_add that wraps the version (any recorded writer
// that sees it clears it before its next operation, so at most one write
// per thread lands while it is set). Unrecorded writes leave the version
// bits as they are (a store or exchange zeroes them).
template <class T>
class PackedCell {
  using U = std::conditional_t<
      sizeof(T) == 1, std::uint8_t,
      std::conditional_t<sizeof(T) == 2, std::uint16_t, std::uint32_t>>;
  static constexpr int kShift = 64 - 8 * static_cast<int>(sizeof(T));
  static constexpr std::uint64_t kLow = (std::uint64_t{1} << kShift) - 1;
  static constexpr std::uint64_t kGuard = flight::kVersionMask + 1;

 public:
  constexpr PackedCell() noexcept = default;
  constexpr explicit PackedCell(T v) noexcept : w_(bits(v)) {}
  // At a given version (tests start one near the version's wrap).
  PackedCell(T v, std::uint64_t version) noexcept
      : w_(bits(v) | (version & flight::kVersionMask)) {}
  const void* address() const { return &w_; }
  // The version bits (tests).
  std::uint64_t version() const {
    return w_.load(std::memory_order_relaxed) & flight::kVersionMask;
  }

  // --- plain: one atomic operation each ------------------------------------
  T load(std::memory_order o) const { return value(w_.load(o)); }
  void store(T v, std::memory_order o) { w_.store(bits(v), o); }
  T exchange(T v, std::memory_order o) {
    return value(w_.exchange(bits(v), o));
  }
  bool compare_exchange(T& expected, T desired, std::memory_order o,
                        bool weak) {
    // The version bits are 0 unless a recording wrote the object: one
    // compare-exchange, again only if the value matched but they did not.
    std::uint64_t w = bits(expected);
    for (;;) {
      const std::uint64_t guess = w;
      if (weak ? w_.compare_exchange_weak(w, bits(desired) | (w & kLow), o)
               : w_.compare_exchange_strong(w, bits(desired) | (w & kLow), o))
        return true;
      if ((w & ~kLow) != bits(expected) || (weak && w == guess)) {
        expected = value(w);
        return false;
      }
    }
  }
  T fetch_add(T d, std::memory_order o) {
    return value(w_.fetch_add(bits(d), o));
  }
  T fetch_sub(T d, std::memory_order o) {
    return value(w_.fetch_sub(bits(d), o));
  }
  T fetch_and(T d, std::memory_order o) {
    return value(w_.fetch_and(bits(d) | kLow, o));
  }
  T fetch_or(T d, std::memory_order o) {
    return value(w_.fetch_or(bits(d), o));
  }
  T fetch_xor(T d, std::memory_order o) {
    return value(w_.fetch_xor(bits(d), o));
  }

  // --- recorded: the operation and its version are one atomic step --------
  T recorded_load(std::memory_order o) const {
    const std::uint64_t w = w_.load(o);
    const std::uint64_t v = w & flight::kVersionMask;
    if (!flight::coalesce(id_.peek(), v)) [[unlikely]]
      flight::record_atomic(flight::Op::kAtomicRead, id_, v, v);
    return value(w);
  }
  T recorded_fetch_add(T d, std::memory_order o) {
    return value(add(bits(d), o));
  }
  T recorded_fetch_sub(T d, std::memory_order o) {
    return value(add(std::uint64_t{0} - bits(d), o));
  }
  void recorded_store(T v, std::memory_order o) {
    update([&](std::uint64_t) { return bits(v); }, o);
  }
  T recorded_exchange(T v, std::memory_order o) {
    return value(update([&](std::uint64_t) { return bits(v); }, o));
  }
  // A failed compare-exchange is a write too (it bumps the version), as in
  // the simulation, where every compare-exchange is a write; never fails
  // spuriously (a weak one may not, either).
  bool recorded_compare_exchange(T& expected, T desired, std::memory_order o,
                                 bool /*weak*/) {
    const std::uint64_t want = bits(expected);
    const std::uint64_t w = update(
        [&](std::uint64_t old) {
          return (old & ~kLow) == want ? bits(desired) : old & ~kLow;
        },
        o);
    if ((w & ~kLow) == want) return true;
    expected = value(w);
    return false;
  }
  T recorded_fetch_and(T d, std::memory_order o) {
    return value(update([&](std::uint64_t w) { return w & bits(d); }, o));
  }
  T recorded_fetch_or(T d, std::memory_order o) {
    return value(
        update([&](std::uint64_t w) { return (w & ~kLow) | bits(d); }, o));
  }
  T recorded_fetch_xor(T d, std::memory_order o) {
    return value(
        update([&](std::uint64_t w) { return (w & ~kLow) ^ bits(d); }, o));
  }

 private:
  static constexpr std::uint64_t bits(T v) {
    return static_cast<std::uint64_t>(std::bit_cast<U>(v)) << kShift;
  }
  static constexpr T value(std::uint64_t w) {
    return std::bit_cast<T>(static_cast<U>(w >> kShift));
  }
  // A recorded fetch_add of `d` (value bits): one fetch_add that also adds
  // 1 to the version; a version that wraps carries into the guard bit,
  // which the writer that sees it set clears.
  std::uint64_t add(std::uint64_t d, std::memory_order o) {
    const std::uint64_t w = w_.fetch_add(d | 1, o);
    // The guard set, or the version at its last value: the low 32 bits,
    // guard and version, at kVersionMask or above.
    if (static_cast<std::uint32_t>(w) >= flight::kVersionMask) [[unlikely]]
      w_.fetch_and(~kGuard, std::memory_order_relaxed);
    logged(w);
    return w;
  }
  // Any other recorded write: a compare-exchange loop that puts the value
  // bits `f(old word)` (low bits zero) with the next version (guard clear).
  template <class F>
  std::uint64_t update(F&& f, std::memory_order o) {
    std::uint64_t w = w_.load(std::memory_order_relaxed);
    while (!w_.compare_exchange_weak(w, f(w) | ((w + 1) & flight::kVersionMask),
                                     o, std::memory_order_relaxed)) {
    }
    logged(w);
    return w;
  }
  void logged(std::uint64_t old) const {
    const std::uint64_t v = old & flight::kVersionMask;
    const std::uint64_t left = (v + 1) & flight::kVersionMask;
    if (!flight::coalesce_write(id_.peek(), v, left)) [[unlikely]]
      flight::record_atomic(flight::Op::kAtomicWrite, id_, v, left);
  }

  std::atomic<std::uint64_t> w_{0};
  flight::ObjectId id_;
};

// Any other T: the value in a std::atomic<T>, recorded under the lock bit
// of an ObjectTag (its version word).
template <class T>
class TaggedCell {
 public:
  constexpr TaggedCell() noexcept = default;
  constexpr explicit TaggedCell(T v) noexcept : v_(v) {}
  const void* address() const { return &v_; }

  T load(std::memory_order o) const { return v_.load(o); }
  void store(T v, std::memory_order o) { v_.store(v, o); }
  T exchange(T v, std::memory_order o) { return v_.exchange(v, o); }
  bool compare_exchange(T& expected, T desired, std::memory_order o,
                        bool weak) {
    return weak ? v_.compare_exchange_weak(expected, desired, o)
                : v_.compare_exchange_strong(expected, desired, o);
  }
  T fetch_add(T d, std::memory_order o) { return v_.fetch_add(d, o); }
  T fetch_sub(T d, std::memory_order o) { return v_.fetch_sub(d, o); }
  T fetch_and(T d, std::memory_order o) { return v_.fetch_and(d, o); }
  T fetch_or(T d, std::memory_order o) { return v_.fetch_or(d, o); }
  T fetch_xor(T d, std::memory_order o) { return v_.fetch_xor(d, o); }

  T recorded_load(std::memory_order o) const {
    return tag_.read(flight::Op::kAtomicRead, [&] { return v_.load(o); });
  }
  T recorded_fetch_add(T d, std::memory_order o) {
    return write([&] { return v_.fetch_add(d, o); });
  }
  T recorded_fetch_sub(T d, std::memory_order o) {
    return write([&] { return v_.fetch_sub(d, o); });
  }
  void recorded_store(T v, std::memory_order o) {
    write([&] {
      v_.store(v, o);
      return 0;
    });
  }
  T recorded_exchange(T v, std::memory_order o) {
    return write([&] { return v_.exchange(v, o); });
  }
  bool recorded_compare_exchange(T& expected, T desired, std::memory_order o,
                                 bool weak) {
    return write([&] {
      return weak ? v_.compare_exchange_weak(expected, desired, o)
                  : v_.compare_exchange_strong(expected, desired, o);
    });
  }
  T recorded_fetch_and(T d, std::memory_order o) {
    return write([&] { return v_.fetch_and(d, o); });
  }
  T recorded_fetch_or(T d, std::memory_order o) {
    return write([&] { return v_.fetch_or(d, o); });
  }
  T recorded_fetch_xor(T d, std::memory_order o) {
    return write([&] { return v_.fetch_xor(d, o); });
  }

 private:
  template <class F>
  auto write(F&& f) {
    return tag_.write(flight::Op::kAtomicWrite, f);
  }
  flight::ObjectTag tag_;
  std::atomic<T> v_{};
};

template <class T>
using AtomicCell =
    std::conditional_t<kPackedAtomic<T>, PackedCell<T>, TaggedCell<T>>;

}  // namespace weft::sim::internal
