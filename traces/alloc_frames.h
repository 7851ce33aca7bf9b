// The alloc layout of a frame's content (format 2.4): allocator calls
// only, each a head byte and then only the fields its head says, coded
// against the record before it (the sequence number as a step from the
// last one plus one, addresses and times as signed steps from the last
// ones), so a recorded call takes about 6 bytes before any compression:
// what `weft alloc record` writes, stored (raw zstd blocks), so that the
// recording process neither codes nor compresses much. Every frame is
// coded on its own, any AllocRecord round-trips exactly, and the decoder
// never reads outside its input and reports malformed input.
// docs/trace-format.md ("Alloc layout") specifies the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "traces/alloc_records.h"
#include "traces/varint.h"

namespace weft::traces {

// The byte after the record count that marks a frame in the alloc layout
// (the column layout's is 64; row-wise frames have a tag below 64 there).
inline constexpr std::uint8_t kAllocMarker = 65;

// What the next record is coded against: the last record's sequence
// number, thread, time, and its last nonzero address (ptr, then result).
struct AllocPrediction {
  std::uint64_t seq = ~std::uint64_t{0};  // so that the first predicted is 0
  std::uint32_t thread = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t address = 0;
};

// Collects the records of one frame in the alloc layout.
class AllocFrameEncoder {
 public:
  void add(const AllocRecord& r);
  std::uint64_t size() const { return records_; }
  // Appends the frame's content (record count, marker, records) to `out`
  // and starts an empty frame. Same records, same bytes.
  void finish(std::string& out);

 private:
  // The most bytes a record takes: its head and nine varints.
  static constexpr std::size_t kMaxRecord = 1 + 9 * 10;
  std::string body_;  // the records, in its first used_ bytes
  std::size_t used_ = 0;
  std::uint64_t records_ = 0;
  AllocPrediction last_;
};

// Yields the records of one alloc-layout frame, in order.
class AllocFrameDecoder {
 public:
  // `data` is the content after the marker; `records` the frame's count.
  void start(const char* data, std::size_t size, std::uint64_t records);
  // The next record into `r`; false on malformed input (error() says
  // what). Call it `records` times.
  bool next(AllocRecord& r);
  // Call after the last record: false unless the input was used up
  // exactly.
  bool finish();
  const char* error() const { return error_; }

 private:
  bool fail(const char* why) {
    error_ = why;
    return false;
  }
  ByteReader in_;
  std::uint64_t records_ = 0;
  std::uint64_t decoded_ = 0;
  AllocPrediction last_;
  const char* error_ = "";
};

}  // namespace weft::traces
