// Programs modelled on SCTBench's CS suite, as the SURW paper scaled them
// up, written against weft's facade: the search tests and search_bench
// measure strategies on them. Each fails a WEFT_ASSERT in the schedules
// that hit its bug.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sim/weft.h"

namespace weft::test {

// reorder: `setters` setters each write a = 1 then b = -1; each of
// `checkers` checkers reads a then b and fails if it saw one write of a
// setter without the other. reorder_N is N-1 setters and one checker; the
// SURW paper's reorder_20 and reorder_50 (PERIOD's sources) have ten
// checkers (10 + 10 and 40 + 10 threads).
inline void reorder(int setters, int checkers) {
  Atomic<int> a{0}, b{0};
  std::vector<JoinHandle> strands;
  for (int i = 0; i < setters; ++i)
    strands.push_back(spawn("setter", [&] {
      a.store(1);
      b.store(-1);
    }));
  for (int i = 0; i < checkers; ++i)
    strands.push_back(spawn("checker", [&] {
      const int x = a.load();
      const int y = b.load();
      WEFT_ASSERT((x == 0 && y == 0) || (x == 1 && y == -1));
    }));
  for (auto& s : strands) s.join();
}
inline void reorder(int n) { reorder(n - 1, 1); }

// twostage: `writers` writers set data1 under one mutex, then data2 =
// data1 + 1 under another; each of `readers` readers fails if it sees data1
// set and data2 not. twostage_N is N-1 writers and one reader; the paper's
// twostage_20 and twostage_50 have ten readers.
inline void twostage(int writers, int readers) {
  Mutex m1("stage 1"), m2("stage 2");
  Atomic<int> data1{0}, data2{0};
  std::vector<JoinHandle> strands;
  for (int i = 0; i < writers; ++i)
    strands.push_back(spawn("writer", [&] {
      {
        std::lock_guard lk(m1);
        data1.store(1);
      }
      std::lock_guard lk(m2);
      data2.store(data1.load() + 1);
    }));
  for (int i = 0; i < readers; ++i)
    strands.push_back(spawn("reader", [&] {
      int t1 = 0;
      {
        std::lock_guard lk(m1);
        t1 = data1.load();
      }
      if (t1 == 0) return;
      int t2 = 0;
      {
        std::lock_guard lk(m2);
        t2 = data2.load();
      }
      WEFT_ASSERT(t2 == t1 + 1);
    }));
  for (auto& s : strands) s.join();
}
inline void twostage(int n) { twostage(n - 1, 1); }

// Schedules `strategy` needs to find `body`'s bug in trial `trial` (its
// seeds are spread apart by trial), or 0 if it does not within `cap`. No
// shrinking, no determinism re-run, no files: only the count.
inline std::uint64_t schedules_to_first_bug(const std::function<void()>& body,
                                            const std::string& strategy,
                                            std::uint64_t trial,
                                            std::uint64_t cap) {
  sim::ExploreOptions o;
  o.strategy = strategy;
  o.seed = trial * 1'000'003;
  o.iterations = cap;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.shrink = false;
  o.check_determinism = false;
  const auto r = sim::explore(o, body);
  return r.failed() ? r.schedules : 0;
}

}  // namespace weft::test
