// The flight recorder's cost on real threads, each workload recorded and
// unrecorded in the same binary (argument 1: recording into a 64MiB arena
// of 64 wrapping rings, as WEFT_RECORD's defaults; 0: not recording):
//  - reactor round trips (reactor -> pool -> back with call_from_thread),
//    the component workload: mutexes, condition variables, the Team;
//  - a pool of 4 Team workers taking 4,000 small jobs that each lock a
//    mutex (the service-like workload: a queue and a lock per item);
//  - an Atomic-heavy loop: 2 threads, each 100,000 fetch_adds and loads
//    on one shared Atomic<int> (every operation recorded; the events the
//    rings took are reported), and the same loop on one thread;
//  - one thread alternating between two Atomics, every operation logged.
// Each reports wall time and the whole process's CPU time (every thread's:
// on a shared machine the CPU time is the steadier figure). The arena's
// size is fixed by its configuration, not by the run: the benchmark
// reports the bytes it maps. Run: build-release/tests/bench/
// flight_bench (docs/performance.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/reactor.h"
#include "runtime/worker.h"
#include "sim/atomic.h"
#include "sim/flight.h"
#include "sim/sync.h"
#include "sim/thread.h"

namespace {

using weft::sim::flight::Arena;

constexpr std::uint32_t kSlots = 64;
constexpr std::uint64_t kRing = 64ull << 20;
constexpr std::uint64_t kCapacity =
    kRing / kSlots / sizeof(weft::sim::flight::Event);

// Records while alive when `on`; the arena is made once per benchmark and
// started afresh for each iteration (start()), so the rings of the
// threads an iteration starts are there for the next one's.
class Recording {
 public:
  explicit Recording(bool on) {
    if (!on) return;
    bytes_ = Arena::bytes_for(kSlots, kCapacity);
    memory_.reset(new char[bytes_]());
  }
  void start() {
    if (memory_)
      weft::sim::flight::attach(memory_.get(), kSlots, kCapacity, true);
  }
  ~Recording() {
    if (memory_) weft::sim::flight::detach();
  }
  std::size_t bytes() const { return bytes_; }
  // The events the rings took since start() (wrapped ones included).
  std::uint64_t events() const {
    if (!memory_) return 0;
    auto* a = reinterpret_cast<Arena*>(memory_.get());
    std::uint64_t n = 0;
    const std::uint32_t used =
        std::min(a->slots_used.load(std::memory_order_acquire), a->slots);
    for (std::uint32_t i = 0; i < used; ++i) n += a->slot(i)->head.load();
    return n;
  }

 private:
  std::unique_ptr<char[]> memory_;
  std::size_t bytes_ = 0;
};

constexpr int kTrips = 2000;

void BM_ReactorRoundTrips(benchmark::State& state) {
  Recording rec(state.range(0) != 0);
  for (auto _ : state) {
    rec.start();
    weft::runtime::Reactor r;
    int left = kTrips;
    std::function<void()> next = [&] {
      if (left-- == 0) {
        r.stop();
        return;
      }
      r.call_in_thread([&] { r.call_from_thread(next); });
    };
    r.call_from_thread(next);
    r.run();
  }
  state.SetItemsProcessed(state.iterations() * kTrips);
  state.counters["arena_bytes"] = static_cast<double>(rec.bytes());
}
BENCHMARK(BM_ReactorRoundTrips)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

constexpr int kJobs = 4000;

void BM_TeamJobs(benchmark::State& state) {
  Recording rec(state.range(0) != 0);
  for (auto _ : state) {
    rec.start();
    weft::sim::Mutex m;
    long total = 0;
    {
      weft::runtime::Team team({.max_workers = 4});
      for (int i = 0; i < kJobs; ++i)
        team.submit([&m, &total, i] {
          std::lock_guard lock(m);
          total += i;
        });
      team.quit();
      team.join();
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * kJobs);
}
BENCHMARK(BM_TeamJobs)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

constexpr int kOps = 100000;

void BM_AtomicHeavy(benchmark::State& state) {
  Recording rec(state.range(0) != 0);
  std::uint64_t events = 0;
  for (auto _ : state) {
    rec.start();
    weft::sim::Atomic<int> counter{0};
    std::vector<weft::sim::JoinHandle> threads;
    for (int t = 0; t < 2; ++t)
      threads.push_back(weft::sim::spawn([&counter] {
        for (int i = 0; i < kOps; ++i) {
          counter.fetch_add(1);
          benchmark::DoNotOptimize(counter.load());
        }
      }));
    for (auto& t : threads) t.join();
    events += rec.events();
  }
  state.SetItemsProcessed(state.iterations() * 2 * 2 * kOps);
  // Logged events per iteration (of 400,000 operations): the rest were
  // counted in a thread's newest event (runs of its own operations).
  state.counters["events"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_AtomicHeavy)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// The same loop on one thread (no other writer): every operation is the
// thread's own run, so the recorded variant logs one event per iteration
// and what is left is the recorded path's own cost per operation.
void BM_AtomicOneThread(benchmark::State& state) {
  Recording rec(state.range(0) != 0);
  for (auto _ : state) {
    rec.start();
    weft::sim::Atomic<int> counter{0};
    for (int i = 0; i < kOps; ++i) {
      counter.fetch_add(1);
      benchmark::DoNotOptimize(counter.load());
    }
  }
  state.SetItemsProcessed(state.iterations() * 2 * kOps);
}
BENCHMARK(BM_AtomicOneThread)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// Every operation logged: one thread alternating fetch_adds between two
// Atomics, so no operation continues its thread's run and each is an
// event, as when two threads truly run at once on one Atomic (the
// recorded BM_AtomicHeavy then logs about one event per write): the cost
// of logging, without depending on how the machine schedules two threads.
void BM_AtomicEveryOpLogged(benchmark::State& state) {
  Recording rec(state.range(0) != 0);
  std::uint64_t events = 0;
  for (auto _ : state) {
    rec.start();
    weft::sim::Atomic<int> a{0};
    weft::sim::Atomic<int> b{0};
    for (int i = 0; i < kOps; ++i) {
      a.fetch_add(1);
      b.fetch_add(1);
    }
    events += rec.events();
  }
  state.SetItemsProcessed(state.iterations() * 2 * kOps);
  state.counters["events"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_AtomicEveryOpLogged)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
