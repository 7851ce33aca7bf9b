// What a choice point costs as the number of strands grows: time per
// scheduler step with N = 1, 2, 10, 100, 1000 strands, for every strategy
// in the registry. N = 1 is the baseline in the same run: the same work on
// one strand, where every pick is forced and no strategy is asked; N = 2
// is the figure the larger N are held to (at most 2x at N = 1000).
//  - BM_StepCost: N strands, all alive at once (they wait on a latch until
//    the last is spawned), each making K atomic stores, K * N ~ 262k;
//  - BM_StepCostReorder: whole schedules of reorder_N (N-1 setters and a
//    checker, tests/support/sctbench.h), spawning included.
//  - BM_RawFiberWalk, BM_RawFiberWalkDeep: the baseline for what memory
//    costs, N raw fibers on the scheduler's stacks switching at random
//    with no scheduler, from their own function or two frames below it.
// surw_scan is SURW as it was before its choices cost O(log n)
// (tests/sim/reference_surw.h), the baseline of surw in the same run.
// The counter ns_per_step is CPU time over scheduler steps.
// Run: build-release/tests/bench/strands_bench (see docs/performance.md).
#include <benchmark/benchmark.h>

#include <boost/context/fiber.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/harness/explore.h"
#include "sim/harness/strategy_registry.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/weft.h"
#include "tests/sim/reference_surw.h"
#include "tests/support/sctbench.h"

namespace {

using weft::sim::RunLimits;
using weft::sim::Scheduler;

constexpr std::int64_t kStepsPerRun = 1 << 18;

std::unique_ptr<weft::sim::Strategy> make(const std::string& name) {
  // The baseline for surw: the version that scanned every enabled strand
  // at each choice point (the schedules are the same).
  if (name == "surw_scan")
    return std::make_unique<weft::sim::test::ReferenceSurw>();
  weft::sim::ExploreOptions options;
  options.preemption_bound = 2;  // dfs: a bounded search, as it is used
  return weft::sim::find_strategy(name)->make(options);
}

// N strands released together by a latch, each making `k` atomic stores.
void all_alive(int n, int k) {
  weft::Latch go(1);
  weft::Atomic<int> x{0};
  std::vector<weft::JoinHandle> strands;
  strands.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    strands.push_back(weft::spawn("s", [&go, &x, k] {
      go.wait();
      for (int j = 0; j < k; ++j) x.store(j);
    }));
  go.count_down();
  for (auto& s : strands) s.join();
}

void run_steps(benchmark::State& state, const std::string& strategy_name,
               const std::function<void()>& body) {
  RunLimits limits;
  limits.max_steps = 1ULL << 40;
  Scheduler sched(limits);
  auto strategy = make(strategy_name);
  std::uint64_t seed = 0, steps = 0;
  for (auto _ : state) {
    const auto r = sched.run(*strategy, ++seed, body);
    if (r.failed() && r.failure->kind != weft::sim::FailureKind::kAssertion)
      state.SkipWithError(r.failure->message.c_str());
    if (strategy->finished()) state.SkipWithError("the search ended");
    steps += r.steps;
  }
  state.counters["ns_per_step"] = benchmark::Counter(
      static_cast<double>(steps),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["steps_per_run"] =
      static_cast<double>(steps) / static_cast<double>(state.iterations());
}

void BM_StepCost(benchmark::State& state, const char* strategy) {
  const int n = static_cast<int>(state.range(0));
  const int k = static_cast<int>(kStepsPerRun / n);
  run_steps(state, strategy, [n, k] { all_alive(n, k); });
}

// reorder_N fails in some schedules (its bug): those count like any other.
void BM_StepCostReorder(benchmark::State& state, const char* strategy) {
  const int n = static_cast<int>(state.range(0));
  run_steps(state, strategy, [n] { weft::test::reorder(n); });
}

// Baseline, the hardware's share: N raw Boost.Context fibers on the
// scheduler's own stacks (its StackPool, so the same layout), each jumping
// straight to one drawn at random (staying put when it draws itself), as a
// random walk switches strands, with no scheduler at all. What touching N
// stacks in turn costs: no scheduler can go below it. BM_RawFiberWalk
// jumps from the fiber's own function, as shallow as a jump can be;
// BM_RawFiberWalkDeep from two frames below it (each with 64 bytes of
// locals), as a strand of BM_StepCost jumps from inside Atomic::store and
// Atomic::point: the lines a resumed fiber reads on its way back out.
struct RawWalk {
  std::vector<boost::context::fiber> conts;  // by fiber; the last: main
  std::size_t from = 0;
  std::size_t n = 0;
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  std::int64_t left = 0;
  std::size_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<std::size_t>((static_cast<weft::sim::Uint128>(x) * n) >>
                                    64);
  }
};

[[gnu::noinline]] void jump_from(RawWalk& w, std::size_t i, int frames) {
  volatile std::uint64_t locals[8];
  locals[0] = i;
  if (frames > 0) {
    jump_from(w, i, frames - 1);
  } else {
    const std::size_t to = w.next();
    if (to != i) {
      w.from = i;
      auto back = std::move(w.conts[to]).resume();
      w.conts[w.from] = std::move(back);
    }
  }
  locals[1] = locals[0];
}

void raw_walk(benchmark::State& state, int frames) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::int64_t steps = 0;
  weft::sim::internal::StackPool pool(weft::sim::kDefaultStackSize);
  pool.reserve(n);  // mapped once, as the scheduler's pool is
  for (auto _ : state) {
    RawWalk w;
    w.n = n;
    w.left = kStepsPerRun;
    w.conts.reserve(n + 1);
    for (std::size_t i = 0; i < n; ++i)
      w.conts.emplace_back(std::allocator_arg,
                           weft::sim::internal::PooledStackAllocator{&pool},
                           [&w, i, frames](boost::context::fiber&& caller) {
                             w.conts[w.from] = std::move(caller);
                             while (w.left-- > 0) {
                               if (frames > 0) {
                                 jump_from(w, i, frames - 1);
                                 continue;
                               }
                               const std::size_t to = w.next();
                               if (to == i) continue;
                               w.from = i;
                               auto back = std::move(w.conts[to]).resume();
                               w.conts[w.from] = std::move(back);
                             }
                             return std::move(w.conts[w.n]);
                           });
    w.conts.emplace_back();
    w.from = n;
    w.conts[n] = std::move(w.conts[0]).resume();
    steps += kStepsPerRun;
    state.PauseTiming();
    w.conts.clear();  // unwinds the fibers still suspended
    state.ResumeTiming();
  }
  state.counters["ns_per_step"] = benchmark::Counter(
      static_cast<double>(steps),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void BM_RawFiberWalk(benchmark::State& state) { raw_walk(state, 0); }
void BM_RawFiberWalkDeep(benchmark::State& state) { raw_walk(state, 2); }

void strands(benchmark::internal::Benchmark* b) {
  for (int n : {1, 2, 10, 100, 1000}) b->Arg(n);
  b->Unit(benchmark::kMillisecond);
}

void reorder_sizes(benchmark::internal::Benchmark* b) {
  for (int n : {2, 3, 10, 100, 1000}) b->Arg(n);
  b->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_RawFiberWalk)->Apply(strands);
BENCHMARK(BM_RawFiberWalkDeep)->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, random, "random")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, pct, "pct")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, portfolio, "portfolio")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, surw, "surw")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, surw_scan, "surw_scan")->Apply(strands);
// pos redraws every strand racing with the operation that ran: O(n) a
// step here, where all N store to one atomic (why the default hands its
// turns to pctrange past 64 strands).
BENCHMARK_CAPTURE(BM_StepCost, pos, "pos")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCost, dfs, "dfs")->Apply(strands);
BENCHMARK_CAPTURE(BM_StepCostReorder, random, "random")->Apply(reorder_sizes);
BENCHMARK_CAPTURE(BM_StepCostReorder, pct, "pct")->Apply(reorder_sizes);
BENCHMARK_CAPTURE(BM_StepCostReorder, portfolio, "portfolio")
    ->Apply(reorder_sizes);
BENCHMARK_CAPTURE(BM_StepCostReorder, surw, "surw")->Apply(reorder_sizes);
BENCHMARK_CAPTURE(BM_StepCostReorder, surw_scan, "surw_scan")
    ->Apply(reorder_sizes);

}  // namespace

BENCHMARK_MAIN();
