// libFuzzer target: any bytes given to the trace reader end in records or
// a TraceError, never a crash, a hang or an unbounded allocation.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

#include "traces/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  static const std::string path =
      "/tmp/weft-fuzz-" + std::to_string(getpid()) + ".weft";
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  try {
    auto reader = weft::traces::TraceReader::open(path);
    for (const auto& record : reader.records()) (void)record;
  } catch (const weft::traces::TraceError&) {
    // Bad input, reported with its offset: the expected outcome.
  }
  return 0;
}
