// TraceReader streams a trace file frame by frame: records() is a
// Generator<Record>, so memory stays flat however long the file. In a
// format 2 file every frame is checked on its own (its frame info's CRC,
// its own CRC, its place in the sequence), so damage is located: a damaged,
// missing or out-of-order frame is noted in summary().damage with its byte
// offset and the records it lost, and reading goes on with the next intact
// frame. A cut tail (what a killed writer leaves) and a file without its
// end marker are losses too. With `strict`, the first loss throws
// TraceError instead. A bad header always throws: nothing after it can be
// trusted. Format 1 files (no index) still read; their damage throws.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "traces/format.h"
#include "traces/generator.h"
#include "traces/record.h"

namespace weft::traces {

// One damaged, missing or misplaced stretch of a file.
struct Damage {
  std::uint64_t offset = 0;                   // where it starts
  std::optional<std::uint64_t> frame;         // its sequence number, if known
  std::optional<std::uint64_t> records_lost;  // if the frame info said
  std::string what;  // "damaged (checksum mismatch)", "missing", ...
  std::uint64_t frame_count = 1;  // frames frame, frame + 1, ... lost
};

struct ReadSummary {
  std::uint64_t frames = 0;   // read whole
  std::uint64_t records = 0;  // read
  std::uint64_t file_bytes = 0;
  std::uint64_t lost_bytes = 0;    // a cut tail: bytes that did not read
  std::uint64_t lost_at = 0;       // where the cut tail starts
  std::uint64_t tail_records = 0;  // records its frame info announced
  // Bytes of the file read so far as whole frames (progress while
  // iterating; the end of the last frame read afterwards).
  std::uint64_t consumed = 0;
  // Format 2: the end marker was read (the writer closed the file), and
  // what it says was written. Format 1 files, which have none, count as
  // closed unless cut.
  bool closed = false;
  std::optional<std::uint64_t> frames_written;
  std::optional<std::uint64_t> records_written;
  // Damage in file order (at most kMaxDamage entries; damage_count counts
  // them all).
  std::vector<Damage> damage;
  std::uint64_t damage_count = 0;
  static constexpr std::size_t kMaxDamage = 64;

  // Anything lost: damage, a cut tail, or no end marker.
  bool lossy() const { return damage_count != 0 || lost_bytes != 0 || !closed; }
  // Records lost, when it is known (from the end marker, or every loss
  // announced by an intact frame info).
  std::optional<std::uint64_t> records_lost() const;
};

// The losses of `summary`, one line each, every line naming `path` and a
// byte offset ("run.weft: frame 2 of 4 damaged at byte 104611 (checksum
// mismatch): 16384 records lost"), then the total ("run.weft: 3 of 4
// frames read (49152 records), 16384 records lost"). Empty if nothing was
// lost.
std::vector<std::string> describe_losses(const std::string& path,
                                         const ReadSummary& summary);

// The exit status of a weft command whose read lost something (a clean
// read is 0, bad usage or unreadable input 2).
inline constexpr int kExitLosses = 3;

class TraceReader {
 public:
  // Opens and validates the header. Throws TraceError on an empty, foreign,
  // truncated, damaged or unknown-version file; std::system_error if it
  // cannot be opened; std::runtime_error if it is not a regular file.
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
  Generator<Record> records_v1();
  Generator<Record> records_v2();
  // Records `d`; throws it as a TraceError when strict.
  void note(Damage d);
  // The file is cut at `at`, inside a frame of `records` records (0: not
  // known); throws when strict.
  void cut_tail(std::uint64_t at, std::uint64_t records);

  std::string path_;
  bool strict_ = false;
  std::unique_ptr<std::FILE, FileCloser> file_;
  TraceHeader header_;
  std::uint32_t header_crc_ = 0;
  std::uint64_t data_start_ = 0;
  ReadSummary summary_;
};

}  // namespace weft::traces
