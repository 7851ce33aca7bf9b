// docs/guide.md, "Spin loops and yield_now": a strand that spins on a flag
// another strand sets. Without weft::yield_now() in the loop PCT can keep
// running the spinner until the step limit; with it every schedule ends.
// (The default portfolio draws priorities again, so it seldom spins that
// long: this runs PCT, as WEFT_STRATEGY=pct would.)
//
// This program exits 0 only if both halves behave as the guide says.
#include <cstdio>

#include "sim/weft.h"

weft::ExploreResult spin(bool yield) {
  weft::ExploreOptions options;  // 1000 schedules
  options.strategy = "pct";
  options.use_environment = false;
  return weft::explore(options, [yield] {
    weft::Atomic<bool> ready{false, "ready"};
    auto spinner = weft::spawn("spinner", [&] {
      while (!ready.load())
        if (yield) weft::yield_now();
    });
    auto setter = weft::spawn("setter", [&] { ready.store(true); });
    spinner.join();
    setter.join();
  });
}

int main() {
  const weft::ExploreResult without = spin(false);  // prints the report
  if (!without.failed() ||
      without.failure->kind != weft::sim::FailureKind::kStepLimit)
    return 1;
  const weft::ExploreResult with = spin(true);
  if (with.failed()) return 1;
  std::printf("with yield_now: no failure in %llu schedules\n",
              static_cast<unsigned long long>(with.schedules));
  return 0;
}
