// An Atomic of up to 32 bits keeps its recording version in the value's
// own word (sim/atomic_cell.h): every operation still returns what
// std::atomic's returns, recorded or not, whatever the version bits hold;
// each recorded write is logged with the number of writes before it and
// each read with the number it saw, and a thread's own run of them with no
// other write between is one event; a version that wraps (2^31 writes)
// leaves the value alone.
#include "sim/atomic_cell.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "sim/atomic.h"
#include "sim/flight.h"

namespace weft::sim::flight {
namespace {

enum class Colour : std::uint8_t { kRed, kGreen, kBlue };

// A recording into memory for the life of the object.
class Recorder {
 public:
  static constexpr std::uint32_t kSlots = 4;
  static constexpr std::uint64_t kCapacity = 1 << 12;
  Recorder() : memory_(Arena::bytes_for(kSlots, kCapacity)) {
    attach(memory_.data(), kSlots, kCapacity, false);
  }
  ~Recorder() { detach(); }
  Arena& arena() { return *reinterpret_cast<Arena*>(memory_.data()); }
  // The calling thread's events (it is thread 0, in slot 0).
  std::vector<Event> events() {
    Arena& a = arena();
    const std::uint64_t n = a.slot(0)->head.load();
    return {a.events(0), a.events(0) + n};
  }

 private:
  std::vector<char> memory_;
};

// Applies `ops` (kind, operand) to a weft Atomic and a std::atomic alike
// and asserts every result is the same.
template <class T>
void same_as_std(const std::vector<std::pair<int, T>>& ops) {
  Atomic<T> a{T{}};
  std::atomic<T> b{T{}};
  for (const auto& [kind, d] : ops) {
    switch (kind % 9) {
      case 0:
        RC_ASSERT(a.load() == b.load());
        break;
      case 1:
        a.store(d);
        b.store(d);
        break;
      case 2:
        RC_ASSERT(a.exchange(d) == b.exchange(d));
        break;
      case 3: {
        T ea = (kind & 16) ? a.load() : d, eb = ea;
        RC_ASSERT(a.compare_exchange_strong(ea, d) ==
                  b.compare_exchange_strong(eb, d));
        RC_ASSERT(ea == eb);
        break;
      }
      case 4:
        RC_ASSERT(a.fetch_add(d) == b.fetch_add(d));
        break;
      case 5:
        RC_ASSERT(a.fetch_sub(d) == b.fetch_sub(d));
        break;
      case 6:
        RC_ASSERT(a.fetch_and(d) == b.fetch_and(d));
        break;
      case 7:
        RC_ASSERT(a.fetch_or(d) == b.fetch_or(d));
        break;
      case 8:
        RC_ASSERT(a.fetch_xor(d) == b.fetch_xor(d));
        break;
    }
  }
  RC_ASSERT(a.load() == b.load());
}

RC_GTEST_PROP(PackedAtomic, EveryOperationReturnsWhatStdAtomicReturns,
              (const std::vector<std::pair<int, int>>& ints,
               const std::vector<std::pair<int, std::int8_t>>& chars,
               const std::vector<std::pair<int, std::uint16_t>>& shorts,
               const std::vector<std::pair<int, std::int64_t>>& wide)) {
  same_as_std(ints);
  same_as_std(chars);
  same_as_std(shorts);
  same_as_std(wide);  // not packed: beside a lock bit, as before
}

RC_GTEST_PROP(PackedAtomic, EveryRecordedOperationReturnsWhatStdAtomicReturns,
              (const std::vector<std::pair<int, int>>& ints,
               const std::vector<std::pair<int, std::int8_t>>& chars,
               const std::vector<std::pair<int, std::uint16_t>>& shorts,
               const std::vector<std::pair<int, std::int64_t>>& wide)) {
  Recorder rec;
  same_as_std(ints);
  same_as_std(chars);
  same_as_std(shorts);
  same_as_std(wide);  // not packed: beside a lock bit, as before
}

TEST(PackedAtomic, ACompareExchangeAfterARecordingSeesThroughTheVersionBits) {
  Atomic<int> a{7};
  {
    Recorder rec;
    a.fetch_add(1);
    a.fetch_sub(1);
  }
  // The word's version bits are 2 now: a plain compare-exchange that
  // expects 7 still finds 7, a weak one too, and one that expects 6 fails.
  int expected = 7;
  EXPECT_TRUE(a.compare_exchange_strong(expected, 8));
  expected = 8;
  while (!a.compare_exchange_weak(expected, 9)) ASSERT_EQ(expected, 8);
  expected = 6;
  EXPECT_FALSE(a.compare_exchange_strong(expected, 10));
  EXPECT_EQ(expected, 9);
  Atomic<bool> flag{false};
  Atomic<Colour> colour{Colour::kRed};
  {
    Recorder rec;
    flag.store(true);
    colour.store(Colour::kBlue);
  }
  bool was = true;
  EXPECT_TRUE(flag.compare_exchange_strong(was, false));
  Colour c = Colour::kBlue;
  EXPECT_TRUE(colour.compare_exchange_strong(c, Colour::kGreen));
  EXPECT_EQ(colour.load(), Colour::kGreen);
}

TEST(PackedAtomic, EachRecordedOperationCarriesTheWritesBeforeIt) {
  Recorder rec;
  Atomic<int> a{0}, b{0};
  // Alternating between two objects, every write is logged.
  a.fetch_add(5);  // a's write at version 0
  b.store(1);      // b's at 0
  a.store(3);      // a's at 1
  b.fetch_add(1);  // b's at 1
  int e = 3;
  a.compare_exchange_strong(e, 4);  // a's at 2
  b.exchange(0);                    // b's at 2
  e = 0;
  a.compare_exchange_strong(e, 1);  // failed: a write at 3 all the same
  b.fetch_or(1);                    // b's at 3
  a.fetch_sub(1);                   // a's at 4
  EXPECT_EQ(a.load(), 3);           // a read at 5, counted in the write
  const std::vector<Event> ev = rec.events();
  ASSERT_EQ(ev.size(), 9u);
  for (std::uint64_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].op, Op::kAtomicWrite);
    EXPECT_EQ(ev[i].version, i / 2);
    EXPECT_EQ(ev[i].object, ev[i % 2].object);
  }
  EXPECT_NE(ev[0].object, ev[1].object);
  EXPECT_EQ(ev[8].value, 1u);  // the read coalesced into the last write
}

TEST(PackedAtomic, AThreadsOwnRunOfWritesAndReadsIsOneEvent) {
  Recorder rec;
  Atomic<int> a{0};
  for (int i = 0; i < 100; ++i) {
    a.fetch_add(1);
    EXPECT_EQ(a.load(), i + 1);
  }
  // A second read after the last write, then a write: the reads before
  // it are not as many as before each earlier write, so it is logged.
  EXPECT_EQ(a.load(), 100);
  a.store(0);
  std::vector<Event> ev = rec.events();
  ASSERT_EQ(ev.size(), 2u);
  const AtomicRun run = decode_run(ev[0].value);
  EXPECT_EQ(ev[0].version, 0u);
  EXPECT_EQ(run.writes, 99u);
  EXPECT_EQ(run.reads, 1u);
  EXPECT_EQ(run.trailing, 2u);
  EXPECT_EQ(ev[1].version, 100u);
  // Another object's operation between ends the run too.
  Atomic<int> b{0};
  b.load();
  a.store(1);
  ev = rec.events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[3].version, 101u);
}

TEST(PackedAtomic, AVersionThatWrapsLeavesTheValueAlone) {
  Recorder rec;
  internal::PackedCell<int> cell(-2, kVersionMask);
  EXPECT_EQ(cell.recorded_fetch_add(1, std::memory_order_seq_cst), -2);
  EXPECT_EQ(cell.version(), 0u);
  EXPECT_EQ(cell.load(std::memory_order_seq_cst), -1);
  EXPECT_EQ(cell.recorded_fetch_add(1, std::memory_order_seq_cst), -1);
  EXPECT_EQ(cell.load(std::memory_order_seq_cst), 0);
  internal::PackedCell<int> other(5, kVersionMask);
  other.recorded_store(6, std::memory_order_seq_cst);
  EXPECT_EQ(other.version(), 0u);
  EXPECT_EQ(other.load(std::memory_order_seq_cst), 6);
  const std::vector<Event> ev = rec.events();
  // The write at version 0 comes right after the one at 2^31 - 1: one run.
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].version, kVersionMask);
  EXPECT_EQ(decode_run(ev[0].value).writes, 1u);
  EXPECT_EQ(ev[1].version, kVersionMask);
}

}  // namespace
}  // namespace weft::sim::flight
