// docs/guide.md, "Running the fuzzer": the ordinary program for the hit
// counter of hit_counter.h. It explores the body like any weft test; with
// WEFT_FUZZ_INPUT=<file> it runs the one schedule a fuzzer's input chooses
// (a crash file from hit_counter_fuzz), shrinks it and writes its traces.
//
// This program exits 0 if weft finds the lost hit, 1 if not, 2 on a bad
// WEFT_* variable or input file.
#include "docs/examples/hit_counter.h"

#include <cstdio>

int main() {
  weft::ExploreOptions options;
  // The body's name, as the fuzz target names it, so the traces the target
  // writes replay here too (a trace replays only in the test it names).
  options.name = "count_hits";
  weft::ExploreResult result;
  try {
    result = weft::explore(options, count_hits);
  } catch (const weft::sim::ConfigError& e) {
    std::fprintf(stderr, "hit_counter: %s\n", e.what());
    return 2;
  }
  if (!result.failed()) {
    std::printf("hit_counter: no lost hit in %llu schedule%s\n",
                static_cast<unsigned long long>(result.schedules),
                result.schedules == 1 ? "" : "s");
    return 1;
  }
  std::printf("hit_counter: lost a hit (strategy %s, schedule %llu)\n",
              result.strategy.c_str(),
              static_cast<unsigned long long>(result.schedules));
  return 0;
}
