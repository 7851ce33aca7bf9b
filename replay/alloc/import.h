// Importers for allocator logs made by tools nobody here wrote: glibc's
// mtrace (MALLOC_TRACE) text and heaptrack's data files (raw, from
// `heaptrack --raw`, or interpreted, the default; plain, .zst or .gz).
// Each is a generator of AllocRecords in file order with dense sequence
// numbers, so convert treats them like a recorded log. Bad input throws
// traces::TraceError naming the file and the byte offset (of the
// decompressed text, for compressed files, as the message says).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "replay/alloc/log.h"
#include "traces/generator.h"

namespace weft::replay {

// glibc mtrace: "+ addr size" (malloc, calloc, memalign, realloc(NULL)),
// "- addr", "< old" then "> new size" (realloc), "! old size" (a failed
// realloc), each optionally after "@ caller ". No thread ids: thread 0.
traces::Generator<AllocRecord> import_mtrace(std::string path);

// heaptrack: raw "+ size trace addr" and "- addr"; interpreted
// "a size trace" (allocation info i), "+ i" and "- i", where a free names
// only the allocation's info, so it frees the latest live block of that
// info (any of them has the same size, which is what a replay needs).
// Addresses in the interpreted form are synthetic. Calls are all malloc
// and free (heaptrack records realloc as both). No thread ids: thread 0.
traces::Generator<AllocRecord> import_heaptrack(std::string path);

enum class LogFormat { kWeft, kMtrace, kHeaptrack };

struct ImportedLog {
  LogFormat format = LogFormat::kWeft;
  std::optional<traces::Generator<AllocRecord>> calls;  // always set
  std::vector<std::pair<std::string, std::string>> metadata;
  // A weft log's reader summary, filled in once `calls` is exhausted: a
  // recording cut inside its last frame (the program was killed) reads up
  // to there, and this says what was lost.
  std::unique_ptr<traces::ReadSummary> tail =
      std::make_unique<traces::ReadSummary>();
};

// Detects the format from the first bytes (weft magic, "= Start" or an
// mtrace line, heaptrack's "v " version line, possibly compressed) and
// opens it. Throws TraceError at byte 0 for anything else.
ImportedLog open_calls(const std::string& path);

// Writes any log open_calls reads as a weft calls log. Returns the number
// of records.
// `losses`, if given, gets what reading `input` lost (a weft log's damage,
// traces::describe_losses); the output appears only when complete.
std::uint64_t import_log(const std::string& input, const std::string& output,
                         std::vector<std::string>* losses = nullptr);

}  // namespace weft::replay
