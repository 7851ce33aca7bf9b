// What crash containment costs: schedules per second of one exploration
// run in this process (WEFT_CONTAIN=off, the baseline) and in a supervised
// child (batch), for a short and a longer body, and for explorations of
// few schedules, where the fork per explore() call weighs most.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "sim/harness/explore.h"
#include "sim/weft.h"

namespace {

using weft::sim::ExploreOptions;

// Two strands that lock one mutex `rounds` times each.
void lockers(int rounds) {
  weft::Mutex m;
  int n = 0;
  auto a = weft::spawn("a", [&] {
    for (int i = 0; i < rounds; ++i) {
      std::lock_guard l(m);
      ++n;
    }
  });
  for (int i = 0; i < rounds; ++i) {
    std::lock_guard l(m);
    ++n;
  }
  a.join();
}

// CPU seconds used by this process and its waited-for children: the
// child's work counts too, and a loaded machine's waiting does not.
double cpu_seconds() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    getrusage(who, &u);
    total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  }
  return total;
}

// Arguments: contained (0/1), schedules per explore() call, lock rounds.
void BM_Explore(benchmark::State& state) {
  ExploreOptions o;
  o.use_environment = false;
  o.print = false;
  o.trace_dir = "";
  o.contain = state.range(0) != 0 ? ExploreOptions::Contain::kBatch
                                  : ExploreOptions::Contain::kOff;
  o.iterations = static_cast<std::uint64_t>(state.range(1));
  const int rounds = static_cast<int>(state.range(2));
  std::uint64_t schedules = 0;
  const double cpu_before = cpu_seconds();
  for (auto _ : state) {
    const weft::sim::ExploreResult r =
        weft::sim::explore(o, [rounds] { lockers(rounds); });
    if (r.failed()) state.SkipWithError("a schedule failed");
    schedules += r.schedules;
  }
  const double cpu = cpu_seconds() - cpu_before;
  // Schedules per CPU second, the child's included: the figure a loaded
  // 2-core machine cannot distort much (real time is reported beside it).
  state.counters["schedules/cpu_s"] =
      cpu > 0 ? static_cast<double>(schedules) / cpu : 0;
  state.counters["schedules/s"] = benchmark::Counter(
      static_cast<double>(schedules), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Explore)
    ->ArgNames({"contained", "schedules", "rounds"})
    ->Args({0, 1000, 2})
    ->Args({1, 1000, 2})
    ->Args({0, 1000, 50})
    ->Args({1, 1000, 50})
    ->Args({0, 10, 2})
    ->Args({1, 10, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
