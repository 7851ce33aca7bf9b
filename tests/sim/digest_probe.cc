// Prints the schedule digest of a fixed set of (program, strategy, seed)
// runs, one line each. The same build must print the same lines every
// time, and so must every other build of the same source: g++ or clang,
// -O0 or -O2, with or without sanitizers. tests/sim/cross_build_digests.sh
// compares the output of two builds byte for byte.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sim/harness/explore.h"
#include "sim/harness/strategy_registry.h"
#include "sim/weft.h"

namespace {

using namespace std::chrono_literals;

// Locks, a condition variable hand-off, a semaphore and a latch.
void handoff() {
  weft::Mutex m("m");
  weft::CondVar cv("cv");
  weft::Semaphore sem(1, "sem");
  weft::Latch done(2, "done");
  int turn = 0;
  auto worker = [&](int me) {
    for (int i = 0; i < 2; ++i) {
      std::unique_lock lk(m);
      cv.wait(lk, [&] { return turn % 2 == me; });
      ++turn;
      cv.notify_all();
    }
    sem.acquire();
    sem.release();
    done.count_down();
  };
  auto a = weft::spawn("even", [&] { worker(0); });
  auto b = weft::spawn("odd", [&] { worker(1); });
  done.wait();
  a.join();
  b.join();
}

// Virtual time: sleeps, timers (one cancelled), clock readings.
void timed() {
  weft::Atomic<int> fired{0};
  weft::Timer t1 = weft::call_after(3ms, [&] { fired.fetch_add(1); });
  auto t2 = weft::call_after(5ms, [&] { fired.fetch_add(10); });
  auto s = weft::spawn("sleeper", [&] {
    weft::sleep_for(4ms);
    if (weft::Clock::now().time_since_epoch() < 5ms) t2.cancel();
  });
  weft::sleep_for(2ms);
  weft::yield_now();
  s.join();
  weft::sleep_for(10ms);
  WEFT_ASSERT(!t1.cancel());  // it fired at 3ms
  WEFT_ASSERT(fired.load() == 1 || fired.load() == 11);
}

// A lost update that fails in some schedules: digests of failing runs
// (their step and kind) are compared too.
void racy() {
  weft::Atomic<int> x{0};
  std::vector<weft::JoinHandle> hs;
  for (int i = 0; i < 3; ++i)
    hs.push_back(weft::spawn("adder", [&] { x.store(x.load() + 1); }));
  for (auto& h : hs) h.join();
  WEFT_ASSERT(x.load() == 3);
}

struct Program {
  const char* name;
  void (*body)();
};
constexpr Program kPrograms[] = {
    {"handoff", handoff}, {"timed", timed}, {"racy", racy}};

}  // namespace

int main() {
  using namespace weft::sim;
  constexpr std::uint64_t kSeeds = 40;
  for (const Program& p : kPrograms) {
    for (const StrategyEntry& e : strategy_registry()) {
      ExploreOptions options;
      std::unique_ptr<Strategy> strategy = e.make(options);
      Scheduler scheduler(options.limits);
      for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
        if (strategy->finished()) break;
        RunResult r = scheduler.run(*strategy, seed, p.body);
        std::printf("%s %s %llu %016llx steps=%llu time=%lld %s\n", p.name,
                    std::string(e.name).c_str(),
                    static_cast<unsigned long long>(seed),
                    static_cast<unsigned long long>(digest(r.schedule)),
                    static_cast<unsigned long long>(r.steps),
                    static_cast<long long>(r.end_time.count()),
                    r.failed() ? std::string(to_string(r.failure->kind)).c_str()
                               : "pass");
      }
    }
  }
  return 0;
}
