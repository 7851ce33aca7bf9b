// libFuzzer targets for the allocator-log importers, one binary per format
// (WEFT_FUZZ_FORMAT 0: mtrace, 1: heaptrack): any bytes end in records or
// a TraceError, never a crash, a hang or an unbounded allocation.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include "replay/alloc/import.h"
#include "traces/format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const std::string path =
      "/tmp/weft-alloc-fuzz-" + std::to_string(getpid()) + ".log";
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
#if WEFT_FUZZ_FORMAT == 0
    for (const auto& r : weft::replay::import_mtrace(path)) (void)r;
#else
    for (const auto& r : weft::replay::import_heaptrack(path)) (void)r;
#endif
  } catch (const weft::traces::TraceError&) {
    // Bad input, reported with its offset: the expected outcome.
  }
  return 0;
}
