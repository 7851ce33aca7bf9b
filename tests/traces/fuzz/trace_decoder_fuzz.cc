// libFuzzer targets for the trace decoders, one binary each
// (WEFT_FUZZ_DECODER 0: any trace through TraceReader, as event traces are
// read; 1: schedule traces through sim::read_schedule; 2: allocator calls
// logs through replay::read_calls; 3: slots logs through replay::read_slots;
// 4: flight recordings through sim::flight::read_recording, then replayed
// against a small program of two strands, so the replayer meets every
// recording too: it diverges or not, never crashes or hangs):
// any bytes end in records, losses or a TraceError, never a crash, a hang
// or an unbounded allocation. The code under test is compiled into the
// target with coverage, and with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION,
// so CRC mismatches are ignored and mutations reach the decoders.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include "replay/alloc/log.h"
#include "sim/atomic.h"
#include "sim/harness/flight/recording.h"
#include "sim/harness/flight/replayer.h"
#include "sim/harness/schedule_trace.h"
#include "sim/sync.h"
#include "sim/thread.h"
#include "traces/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const std::string path =
      "/tmp/weft-fuzz-" + std::to_string(getpid()) + ".weft";
  // The file goes when the fuzzer exits, so runs leave nothing behind.
  static const int removed_at_exit =
      std::atexit([] { std::remove(path.c_str()); });
  (void)removed_at_exit;
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
#if WEFT_FUZZ_DECODER == 0
    auto reader = weft::traces::TraceReader::open(path);
    for (const auto& record : reader.records()) (void)record;
    for (const auto& line :
         weft::traces::describe_losses(path, reader.summary()))
      (void)line;
#elif WEFT_FUZZ_DECODER == 1
    (void)weft::sim::read_schedule(path);
#elif WEFT_FUZZ_DECODER == 2
    weft::traces::ReadSummary tail;
    for (const auto& r : weft::replay::read_calls(path, &tail)) (void)r;
#elif WEFT_FUZZ_DECODER == 4
    const auto rec = weft::sim::flight::read_recording(path);
    weft::sim::flight::FlightReplay strategy(rec);
    weft::sim::Scheduler sched(weft::sim::RunLimits{.max_steps = 2000});
    sched.set_replay_hooks(&strategy);
    (void)sched.run(strategy, 1, [] {
      weft::sim::Mutex m;
      weft::sim::CondVar cv;
      weft::sim::Atomic<int> a{0};
      auto t = weft::sim::spawn([&] {
        std::unique_lock lock(m);
        a.store(a.load() + 1);
      });
      {
        std::unique_lock lock(m);
        a.fetch_add(1);
        (void)weft::sim::Clock::now();
        cv.wait_for(lock, std::chrono::milliseconds(1));
      }
      t.join();
    });
#else
    weft::replay::SlotLogShape shape;
    for (const auto& op : weft::replay::read_slots(path, &shape)) (void)op;
#endif
  } catch (const weft::traces::TraceError&) {
    // Bad input, reported with its offset: the expected outcome.
  }
  return 0;
}
