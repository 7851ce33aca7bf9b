// Fuzzer-driven schedules: one line turns a weft test body into a libFuzzer
// (or AFL++) target whose input bytes choose the schedule (ByteStrategy),
//   WEFT_FUZZ_TARGET(body)
// so the coverage the body reaches guides the search. An input whose
// schedule fails (assertion, deadlock, uncaught exception, step limit) is
// written as a schedule trace under WEFT_TRACE_DIR, reported with the
// commands that replay it, and ends in abort(), which the fuzzer records as
// a crash. WEFT_FUZZ_INPUT=<input file> runs one input in an ordinary test
// binary (explore() with strategy "bytes"). Build: docs/guide.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "sim/strategy.h"

namespace weft::sim {

struct ExploreOptions;

// The "bytes" entry of the strategy registry: a ByteStrategy over the
// bytes of the file options.fuzz_input (WEFT_FUZZ_INPUT), or without one
// over bytes drawn from each seed. Throws ConfigError naming the variable
// and the file if it cannot be read.
std::unique_ptr<Strategy> make_byte_strategy(const ExploreOptions& options);

}  // namespace weft::sim

namespace weft::fuzzing {

// Runs `body` once under the schedule `data` chooses. On a failure it
// writes the trace, prints the report and aborts; otherwise returns 0, as
// LLVMFuzzerTestOneInput must. `name` names the trace files.
// WEFT_FUZZ_RECORD=<dir> also writes the trace of every input it runs
// (<dir>/<name>-<digest>.weft), failing or not: a corpus as weft traces.
int run_input(const std::uint8_t* data, std::size_t size,
              const std::function<void()>& body, const char* name);

}  // namespace weft::fuzzing

// Defines the fuzzer's entry point for `body`, a callable (a function name
// or a lambda) that runs one schedule's worth of the test.
#define WEFT_FUZZ_TARGET(...)                                        \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,    \
                                        std::size_t size) {          \
    static const std::function<void()> weft_fuzz_body = __VA_ARGS__; \
    return ::weft::fuzzing::run_input(data, size, weft_fuzz_body,    \
                                      #__VA_ARGS__);                 \
  }
