// docs/guide.md, "Running the fuzzer": a hit counter with a lock-free fast
// path and a slow path under a mutex for when the fast path loses a race.
// The slow path was written as if every writer took the mutex: it reads
// the count and writes it back, so a fast-path add that lands in between
// is lost. Reaching the bug takes two races in a row (one to get into the
// slow path, one inside it), the kind of path coverage feedback finds.
#pragma once

#include <mutex>
#include <string>

#include "sim/weft.h"

class HitCounter {
 public:
  void add(int n) {
    int seen = hits_.load();
    if (hits_.compare_exchange_strong(seen, seen + n)) return;  // fast path
    // Contended: someone added between our load and our exchange.
    std::lock_guard<weft::Mutex> guard(slow_);
    const int now = hits_.load();
    hits_.store(now + n);  // the bug: a fast-path add in between is lost
  }
  int hits() const { return hits_.load(); }

 private:
  weft::Atomic<int> hits_{0};
  weft::Mutex slow_;
};

// The test body: two strands add three hits each.
inline void count_hits() {
  HitCounter counter;
  auto add_three = [&] {
    for (int i = 0; i < 3; ++i) counter.add(1);
  };
  auto a = weft::spawn("a", add_three);
  auto b = weft::spawn("b", add_three);
  a.join();
  b.join();
  WEFT_ASSERT_MSG(counter.hits() == 6,
                  "a hit was lost: counted " + std::to_string(counter.hits()));
}
