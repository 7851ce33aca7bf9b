// A generator of synthetic allocator logs as big as asked (`weft alloc
// generate`): a timed calls log, deterministic per seed, written in
// constant memory (bounded by the live blocks, as convert and the
// replayer are). Its distributions are shaped like a real service's:
//
//   sizes      60% 8-64 B, 25% 64-256 B, 10% 256 B-4 KiB, 4.5% 4-64 KiB,
//              0.5% 64 KiB-1 MiB (many small, few large);
//   calls      95% malloc, 3% calloc, 2% posix_memalign (64-byte aligned);
//              15% of the blocks that reach the end of their life are
//              grown with realloc instead of freed, and live on;
//   lifetimes  70% short (geometric, mean 16 calls), 27% medium (mean
//              4,000 calls), 3% long-lived (log-uniform, 100k to 30M
//              calls); 10% of the medium and long ones are freed by
//              another thread than the one that allocated them;
//   time       per thread, exponential gaps (mean 250 ns) between calls
//              and, once in about 200,000 calls, an idle spell of 1-20 ms.
//
// Addresses are unique (never reused), so convert maps them without
// anomalies; blocks still live when the log ends are left live, as a
// program's are when it exits.
#pragma once

#include <cstdint>
#include <string>

namespace weft::replay {

struct GenerateOptions {
  std::uint64_t calls = 1'000'000;  // records written
  std::uint32_t threads = 4;        // 1 .. kMaxThreads
  std::uint64_t seed = 1;
};

struct GenerateStats {
  std::uint64_t calls = 0;
  std::uint64_t allocations = 0;  // malloc, calloc, posix_memalign
  std::uint64_t frees = 0;
  std::uint64_t reallocs = 0;
  std::uint64_t handed_off = 0;  // freed by another thread
  std::uint64_t peak_live_blocks = 0;
  std::uint64_t end_live_blocks = 0;
  std::uint64_t duration_ns = 0;  // the last call's time
};

// Writes the log to `output` (which appears only when complete). Throws
// std::invalid_argument for options out of range, std::system_error if
// the file cannot be written.
GenerateStats generate_log(const std::string& output,
                           const GenerateOptions& options);

}  // namespace weft::replay
