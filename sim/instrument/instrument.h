// The user's side of instrumented code (weft_instrument() in CMake): code
// built with clang's ThreadSanitizer instrumentation and linked to weft's
// hook runtime. Inside a simulation every std::atomic operation is a choice
// point and plain accesses are checked for data races (a happens-before
// detector, failing the schedule with FailureKind::kDataRace); outside one
// each hook does the plain operation after one thread-local check.
#pragma once

namespace weft::sim::instrument {

struct Options {
  // Check plain loads and stores for data races (WEFT_RACES=on|off).
  bool detect_races = true;
  // Make a plain access a choice point once its location has been touched
  // by two strands in the run (WEFT_PLAIN_ACCESSES=shared|off). Costs more
  // and changes the schedules: replay with the same setting.
  bool plain_choice_points = false;
};

// The options in force: the environment's, read when the first
// instrumented module started, unless set since.
Options options();
// Call outside a simulation, before the runs it should apply to.
void set_options(const Options& options);
// True when instrumented code started the runtime in this process.
bool initialized();

}  // namespace weft::sim::instrument
