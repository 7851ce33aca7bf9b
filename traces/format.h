// A trace file: a header (magic, format version, kind, metadata) followed
// by independent zstd frames, each a checksummed batch of records. A writer
// killed mid-write leaves whole frames plus at most one partial one; the
// reader reads the whole ones and says how many bytes it lost.
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
// record frame: varint sequence number, varint record count.
inline constexpr std::uint32_t kFrameInfoMagic = 0x184D2A5E;
inline constexpr std::uint8_t kVersionMajor = 1;
// Minor 1: frames in the column layout (traces/columns.h); minor 0 files,
// whose frames hold records row by row, still read.
inline constexpr std::uint8_t kVersionMinor = 1;

enum class TraceKind : std::uint8_t {
  kSchedule = 0,
  kEvents = 1,
  kAllocLog = 2
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
