// A Treiber stack written with std::atomic only (no weft header), over a
// fixed pool of nodes named by index. The head packs the top node's index
// (plus one; 0 is empty) with a tag. Untagged, it has the ABA bug: a pop
// that read head A and A's successor B can still swing the head to B after
// other pops took A and B and pushed A back, so B is both taken and on the
// stack. Tagged (every successful swing bumps the tag), that CAS fails.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::test {

template <bool kTagged, int kNodes>
class LockFreeStack {
 public:
  static constexpr int kEmpty = -1;

  void push(int node) {
    std::uint64_t old = head_.load();
    for (;;) {
      next_[node].store(index_of(old));
      if (head_.compare_exchange_weak(old, pack(node + 1, old))) return;
    }
  }
  // The node taken, or kEmpty.
  int pop() {
    std::uint64_t old = head_.load();
    for (;;) {
      const std::uint32_t top = index_of(old);
      if (top == 0) return kEmpty;
      const std::uint32_t next = next_[top - 1].load();
      if (head_.compare_exchange_weak(old, pack(next, old)))
        return static_cast<int>(top) - 1;
    }
  }

 private:
  static std::uint32_t index_of(std::uint64_t head) {
    return static_cast<std::uint32_t>(head);
  }
  static std::uint64_t pack(std::uint32_t index, std::uint64_t old) {
    const std::uint64_t tag = kTagged ? (old >> 32) + 1 : 0;
    return tag << 32 | index;
  }

  std::atomic<std::uint64_t> head_{0};
  std::atomic<std::uint32_t> next_[kNodes] = {};  // successor's index + 1
};

}  // namespace weft::test
