// The operations of a replay, shared by replay/alloc's engine files only
// (engine.cc, ordered.cc), not an interface: the unchecked loop's packed
// operations and the checked operations, which fill, check and time each
// block.
#pragma once

#include <malloc.h>

#include <cstdint>
#include <cstdlib>

#include "replay/alloc/checks.h"
#include "replay/alloc/measure.h"

namespace weft::replay::internal {

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

// One operation, unchecked, from its full record (engine.cc).
void run_full(void** ptr, const SlotRecord& op);

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
  bump(h.coarse[coarse_bucket(dt)]);
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

}  // namespace weft::replay::internal
