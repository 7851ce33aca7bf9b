// A trace file: a checksummed header (magic, format version, kind,
// metadata) followed by independent zstd frames, each a batch of records
// preceded by a checksummed frame info (sequence number, record count, the
// frame's size and checksum) and the whole closed by an end marker. A
// reader checks every frame on its own, finds the next one after damage,
// and says what it lost; a writer killed mid-write leaves whole frames.
// docs/trace-format.md specifies the bytes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace weft::traces {

inline constexpr char kMagic[8] = {'W', 'E', 'F', 'T', 'T', 'R', 'C', '\n'};
// The skippable zstd frame (magic 0x184D2A50 + 0xE) that precedes each
// record frame: varint sequence number, varint record count (format 1);
// plus the record frame's size and CRC-32 and its own CRC-32 (format 2).
inline constexpr std::uint32_t kFrameInfoMagic = 0x184D2A5E;
// The skippable frame that closes a format 2 file: frames and records
// written, and its CRC-32.
inline constexpr std::uint32_t kEndMagic = 0x184D2A5D;
// Format 2.0: the header's CRC-32, frame infos that locate and check their
// frame, the end marker. Format 1.0 and 1.1 files still read.
inline constexpr std::uint8_t kVersionMajor = 2;
// 2.1 added op records; 2.2 flight and net records; 2.3 times on alloc
// and slot records; 2.4 the alloc layout (traces/alloc_frames.h) and
// stored frames.
inline constexpr std::uint8_t kVersionMinor = 4;
// The newest minor version of format 1 this reader knows (the column
// layout).
inline constexpr std::uint8_t kVersion1Minor = 1;

enum class TraceKind : std::uint8_t {
  kSchedule = 0,
  kEvents = 1,
  kAllocLog = 2,
  kFlight = 3,  // a flight recording of real threads (sim/harness/flight)
};

struct TraceHeader {
  TraceKind kind = TraceKind::kSchedule;
  std::uint8_t version_major = kVersionMajor;
  std::uint8_t version_minor = kVersionMinor;
  // seed, strategy, test, weft_version, ... in the order written.
  std::vector<std::pair<std::string, std::string>> metadata;

  // The value of `key`, or "" if absent.
  std::string get(const std::string& key) const;
};

// Bad input: the message names the file and the byte offset.
class TraceError : public std::runtime_error {
 public:
  TraceError(const std::string& file, std::uint64_t offset,
             const std::string& what)
      : std::runtime_error(file + ": " + what + " at byte " +
                           std::to_string(offset)),
        offset_(offset) {}
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

}  // namespace weft::traces
