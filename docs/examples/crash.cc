// docs/guide.md, "When code under test crashes": a strand that calls
// abort() on one interleaving. explore() runs the schedules in a child
// process, so the abort is reported like any failure, with a trace file
// that replays it, and this program goes on to a second exploration.
//
// This program exits 0 only if both behave as the guide says.
#include <cstdio>
#include <cstdlib>

#include "sim/weft.h"

void body() {
  weft::Atomic<int> state{0};
  auto writer = weft::spawn("writer", [&] {
    state.store(1);  // half-initialised
    state.store(2);
  });
  auto reader = weft::spawn("reader", [&] {
    if (state.load() == 1) std::abort();  // a "can't happen" check
  });
  writer.join();
  reader.join();
}

int main() {
  weft::ExploreOptions options;  // WEFT_* variables apply, so WEFT_REPLAY
  options.strategy = "random";
  options.name = "crash";
  const weft::ExploreResult crashed = weft::explore(options, body);  // prints
  if (!crashed.failed() ||
      crashed.failure->kind != weft::sim::FailureKind::kCrash)
    return 1;
  // The same process goes on: the abort happened in the child.
  options.use_environment = false;
  const weft::ExploreResult next =
      weft::explore(options, [] { weft::spawn("w", [] {}).join(); });
  if (next.failed()) return 1;
  std::printf("and then: no failure in %llu schedules\n",
              static_cast<unsigned long long>(next.schedules));
  return 0;
}
