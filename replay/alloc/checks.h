// What a checked replay checks, shared by replay/alloc's own files only
// (the engine checks, the report describes), not an interface: each
// block's slot-specific pattern, calloc zeros, alignment, and the errors
// found.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include "replay/alloc/log.h"

namespace weft::replay::internal {

// --- patterns --------------------------------------------------------------

inline std::uint64_t pattern(std::uint32_t slot) {
  return (static_cast<std::uint64_t>(slot) + 1) * 0x9E3779B97F4A7C15ull;
}

inline void fill(void* p, std::uint64_t from, std::uint64_t n,
                 std::uint32_t slot) {
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
inline std::uint64_t first_bad(const void* p, std::uint64_t n,
                               std::uint32_t slot) {
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

inline std::uint64_t first_nonzero(const void* p, std::uint64_t n) {
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

// One error, in a sentence.
std::string describe(const ErrorInfo& e);

}  // namespace weft::replay::internal
