// A single-producer single-consumer ring written with std::atomic only
// (no weft header). The producer writes the slot, then publishes it by
// advancing `tail`. With kPublishFirst it advances `tail` first (the
// publication-order bug): a consumer that sees the new tail reads a slot
// the producer has not written yet. `Slot` is std::atomic<int> (the bug is
// a wrong value) or a plain int (it is also a data race).
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::test {

template <bool kPublishFirst, class Slot, int kCapacity>
class SpscQueue {
 public:
  bool push(int v) {
    const std::uint32_t t = tail_.load();
    if (t - head_.load() == kCapacity) return false;
    if (kPublishFirst) {
      tail_.store(t + 1);
      slots_[t % kCapacity] = v;
    } else {
      slots_[t % kCapacity] = v;
      tail_.store(t + 1);
    }
    return true;
  }
  bool pop(int& v) {
    const std::uint32_t h = head_.load();
    if (h == tail_.load()) return false;
    v = slots_[h % kCapacity];
    head_.store(h + 1);
    return true;
  }

 private:
  std::atomic<std::uint32_t> head_{0};
  std::atomic<std::uint32_t> tail_{0};
  Slot slots_[kCapacity] = {};
};

}  // namespace weft::test
