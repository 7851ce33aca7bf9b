// Writes the trace of one long failing schedule, for the timeline's
// browser test and render-time measurement (tests/docs/timeline_render.sh):
// four strands take a mutex, bump an atomic and release it, sleeping now
// and then, until about STEPS scheduler steps have run; then an assertion
// fails. Usage: long_schedule STEPS OUT.weft
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "sim/harness/schedule_trace.h"
#include "sim/weft.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: long_schedule STEPS OUT.weft\n");
    return 2;
  }
  const std::uint64_t steps = std::strtoull(argv[1], nullptr, 10);
  weft::sim::RunLimits limits;
  limits.max_steps = steps * 2 + 1000;
  weft::sim::Scheduler sched(limits);
  weft::sim::RandomStrategy random;
  weft::traces::TraceHeader header;
  header.metadata = {{"test", "long_schedule"},
                     {"steps", std::to_string(steps)}};
  weft::sim::ScheduleRecorder recorder(argv[2], header);
  sched.set_observer(&recorder);
  const auto run = sched.run(random, 1, [&] {
    weft::sim::Mutex m("counter lock");
    weft::sim::Atomic<long> counter{0};
    auto work = [&] {
      for (int i = 0; weft::sim::Scheduler::current()->step() < steps; ++i) {
        std::lock_guard<weft::sim::Mutex> hold(m);
        counter.fetch_add(1);
        if (i % 64 == 63) weft::sim::sleep_for(std::chrono::microseconds(10));
      }
    };
    auto a = weft::sim::spawn("worker-a", work);
    auto b = weft::sim::spawn("worker-b", work);
    auto c = weft::sim::spawn("worker-c", work);
    auto d = weft::sim::spawn("worker-d", work);
    a.join();
    b.join();
    c.join();
    d.join();
    WEFT_ASSERT_MSG(counter.load() < 0, "the counter ran to the end");
  });
  sched.set_observer(nullptr);
  recorder.close();
  std::printf("%s: %llu steps, %s\n", argv[2],
              static_cast<unsigned long long>(run.steps),
              run.failed() ? "failed" : "passed");
  return run.failed() ? 0 : 1;
}
