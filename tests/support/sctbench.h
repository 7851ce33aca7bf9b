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

// reorder_N: N-1 setters each write a = 1 then b = -1; a checker reads a
// then b and fails if it saw one write of a setter without the other.
inline void reorder(int n) {
  Atomic<int> a{0}, b{0};
  std::vector<JoinHandle> setters;
  for (int i = 0; i < n - 1; ++i)
    setters.push_back(spawn("setter", [&] {
      a.store(1);
      b.store(-1);
    }));
  auto checker = spawn("checker", [&] {
    const int x = a.load();
    const int y = b.load();
    WEFT_ASSERT((x == 0 && y == 0) || (x == 1 && y == -1));
  });
  for (auto& s : setters) s.join();
  checker.join();
}

// twostage_N: N-1 writers set data1 under one mutex, then data2 = data1 + 1
// under another; a reader fails if it sees data1 set and data2 not.
inline void twostage(int n) {
  Mutex m1("stage 1"), m2("stage 2");
  Atomic<int> data1{0}, data2{0};
  std::vector<JoinHandle> writers;
  for (int i = 0; i < n - 1; ++i)
    writers.push_back(spawn("writer", [&] {
      {
        std::lock_guard lk(m1);
        data1.store(1);
      }
      std::lock_guard lk(m2);
      data2.store(data1.load() + 1);
    }));
  auto reader = spawn("reader", [&] {
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
  });
  for (auto& w : writers) w.join();
  reader.join();
}

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
