// TraceReader streams a trace file frame by frame: records() is a
// Generator<Record>, so memory stays flat however long the file. Damage in
// the middle (bad checksum, garbage, a malformed record) throws TraceError
// naming the file and the frame's byte offset; a truncated last frame,
// which is what a killed writer leaves, is not an error unless `strict`:
// summary() then says how many bytes at the tail were lost.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "traces/format.h"
#include "traces/generator.h"
#include "traces/record.h"

namespace weft::traces {

struct ReadSummary {
  std::uint64_t frames = 0;
  std::uint64_t records = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t lost_bytes = 0;  // a truncated tail frame
  std::uint64_t lost_at = 0;     // where the lost tail starts
  // Bytes of the file read so far as whole frames (progress while
  // iterating; the end of the last complete frame afterwards).
  std::uint64_t consumed = 0;
};

class TraceReader {
 public:
  // Opens and validates the header. Throws TraceError on an empty, foreign,
  // truncated or too-new file; std::system_error if it cannot be opened.
  static TraceReader open(const std::string& path, bool strict = false);

  const TraceHeader& header() const { return header_; }
  // The records, in order. Iterate once.
  Generator<Record> records();
  // Complete after records() has been iterated to its end.
  const ReadSummary& summary() const { return summary_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  TraceReader() = default;

  std::string path_;
  bool strict_ = false;
  std::unique_ptr<std::FILE, FileCloser> file_;
  TraceHeader header_;
  std::uint64_t data_start_ = 0;
  ReadSummary summary_;
};

}  // namespace weft::traces
