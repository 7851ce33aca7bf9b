// Programs whose bugs need a particular kind of schedule, for the tests of
// the strategies that find them (tests/sim/strategies_test.cc) and for
// search_bench: a chain of three windows that needs three preemptions, and
// a hand-off that needs one delay of a round-robin scheduler.
#pragma once

#include <vector>

#include "sim/weft.h"

namespace weft::test {

// Three strands of about `steps` atomic steps each. `a` opens a window
// (x = 1 for `width` steps) and looks inside it for w. `b` opens a
// y-window of `width` steps once it has seen x == 1 on `run` consecutive
// steps of its own, and `c` a w-window once it has seen y == 1 on `run`
// consecutive steps. The bug (a reads w == 1) needs a preempted inside its
// window, then b inside its, then c inside its: three preemptions, each
// followed by `run` steps of one strand alone. PCT of depth 3 (two change
// points) never finds it; a walk almost never lets one strand run `run`
// steps in a row; PCT of depth 4 does both.
inline void preemption_chain(int steps, int run = 8, int width = 1) {
  Atomic<int> x{0}, y{0}, w{0}, noise{0};
  auto window = [&](Atomic<int>& flag) {
    flag.store(1);
    for (int j = 0; j < width; ++j) noise.store(j);
    flag.store(0);
  };
  auto relay = [&](Atomic<int>& in, Atomic<int>& out) {
    int seen = 0;
    for (int i = 0; i < steps; ++i) {
      seen = in.load() == 1 ? seen + 1 : 0;
      if (seen == run) window(out);
    }
  };
  auto a = spawn("a", [&] {
    for (int i = 0; i < steps; ++i) {
      noise.store(i);
      if (i != steps / 2) continue;
      x.store(1);
      for (int j = 0; j < width; ++j) noise.store(j);
      const int seen = w.load();
      x.store(0);
      WEFT_ASSERT_MSG(seen == 0, "a saw c's window inside its own");
    }
  });
  auto b = spawn("b", [&] { relay(x, y); });
  auto c = spawn("c", [&] { relay(y, w); });
  a.join();
  b.join();
  c.join();
}

// `workers` strands of `steps` atomic steps each. The first raises a flag
// for one step in the middle of its work; the second fails if it sees the
// flag both before and after all of its work, that is if it ran whole
// inside the first's window. Round robin with one delay placed at that
// step does exactly that; PCT must also rank the first above every other
// strand and the second next, and a walk must run the second `steps`
// times in a row.
inline void handoff(int workers, int steps) {
  Atomic<int> flag{0}, noise{0};
  std::vector<JoinHandle> all;
  all.push_back(spawn("first", [&] {
    for (int i = 0; i < steps; ++i) {
      noise.store(i);
      if (i == steps / 2) {
        flag.store(1);
        flag.store(0);
      }
    }
  }));
  all.push_back(spawn("second", [&] {
    const int before = flag.load();
    for (int i = 0; i < steps; ++i) noise.store(i);
    const int after = flag.load();
    WEFT_ASSERT_MSG(before == 0 || after == 0,
                    "the second worker ran whole inside the first's window");
  }));
  for (int k = 2; k < workers; ++k)
    all.push_back(spawn("worker", [&] {
      for (int i = 0; i < steps; ++i) noise.store(i);
    }));
  for (auto& h : all) h.join();
}

}  // namespace weft::test
