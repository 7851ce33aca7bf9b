// The scaled programs' fixed variants (reorder_N, twostage_N) and the
// program whose bug needs three preemptions among three long strands.
#include <mutex>
#include <vector>

#include "sim/weft.h"
#include "tests/support/sctbench_programs.h"

namespace weft::test {

// reorder() with each setter's two writes, and each checker's two reads,
// under one mutex: a checker sees both writes of a setter or neither.
void reorder_fixed(int setters, int checkers) {
  Mutex m("pair");
  Atomic<int> a{0}, b{0};
  std::vector<JoinHandle> strands;
  for (int i = 0; i < setters; ++i)
    strands.push_back(spawn("setter", [&] {
      std::lock_guard lk(m);
      a.store(1);
      b.store(-1);
    }));
  for (int i = 0; i < checkers; ++i)
    strands.push_back(spawn("checker", [&] {
      std::lock_guard lk(m);
      const int x = a.load();
      const int y = b.load();
      WEFT_ASSERT((x == 0 && y == 0) || (x == 1 && y == -1));
    }));
  for (auto& s : strands) s.join();
}

// twostage() with stage 2 done while stage 1's mutex is still held, and
// each reader holding stage 1's mutex while it reads data2 (both take the
// mutexes in one order, so no deadlock).
void twostage_fixed(int writers, int readers) {
  Mutex m1("stage 1"), m2("stage 2");
  Atomic<int> data1{0}, data2{0};
  std::vector<JoinHandle> strands;
  for (int i = 0; i < writers; ++i)
    strands.push_back(spawn("writer", [&] {
      std::lock_guard l1(m1);
      data1.store(1);
      std::lock_guard l2(m2);
      data2.store(data1.load() + 1);
    }));
  for (int i = 0; i < readers; ++i)
    strands.push_back(spawn("reader", [&] {
      std::lock_guard l1(m1);
      const int t1 = data1.load();
      if (t1 == 0) return;
      std::lock_guard l2(m2);
      WEFT_ASSERT(data2.load() == t1 + 1);
    }));
  for (auto& s : strands) s.join();
}

void reorder_fixed(int n) { reorder_fixed(n - 1, 1); }
void twostage_fixed(int n) { twostage_fixed(n - 1, 1); }

namespace {

constexpr int kLongSteps = 28;  // atomic operations per strand

// One strand of three_preemptions: kLongSteps operations; at step `open`
// it publishes what it read from `in` (A publishes 1) on `out`, at step
// `open + 2` it takes it back, and A fails at step `look` if it sees z set.
// Fixed: the window is held under `own`, and `in` is read under `theirs`,
// the mutex of the strand that writes it, so a value is never seen while
// it is published.
struct LongStrand {
  int open;
  Atomic<int>* in;  // null for A
  Atomic<int>& out;
  Mutex& own;
  Mutex* theirs;
  bool fixed;
  Atomic<int>* z = nullptr;  // A's only
  int look = -1;
  Atomic<int> work{0};

  void step(int i) {
    if (i == open) {
      int value = 1;
      if (in != nullptr) {
        std::unique_lock lk(*theirs, std::defer_lock);
        if (fixed) lk.lock();
        value = in->load();
      }
      if (fixed) own.lock();
      out.store(value);
    } else if (i == open + 2) {
      out.store(0);
      if (fixed) own.unlock();
    } else if (i == look) {
      WEFT_ASSERT_MSG(z->load() == 0, "A's value came back to it via B and C");
    } else {
      work.fetch_add(1);
    }
  }
  void run() {
    for (int i = 0; i < kLongSteps; ++i) step(i);
  }
};

}  // namespace

// Three strands of 28 atomic operations each. A publishes x = 1 during its
// steps 3..5, B copies x into y during its steps 22..24, C copies y into z
// during its steps 22..24, and A fails at its step 7 if it sees z = 1. That
// needs A preempted inside its window (to let B read x), then B inside its
// own (to let C read y), then C inside its own (to let A read z): three
// preemptions, and no schedule with fewer fails. The windows are short and
// B and C must run 20 steps while A waits, so a random walk almost never
// does it, and PCT needs three change points (depth 4). Fixed: each window
// is held under its strand's mutex, which the reader takes.
void three_preemptions(Variant v) {
  const bool fixed = v == Variant::kFixed;
  Atomic<int> x{0}, y{0}, z{0};
  Mutex mx("x window"), my("y window"), mz("z window");
  LongStrand a{3, nullptr, x, mx, nullptr, fixed, &z, 7};
  LongStrand b{22, &x, y, my, &mx, fixed};
  LongStrand c{22, &y, z, mz, &my, fixed};
  auto ta = spawn("A", [&] { a.run(); });
  auto tb = spawn("B", [&] { b.run(); });
  auto tc = spawn("C", [&] { c.run(); });
  ta.join();
  tb.join();
  tc.join();
}

}  // namespace weft::test
