// TraceWriter appends records to a trace file. Records are batched into
// frames; a frame closes every `records_per_frame` records, every
// `flush_interval` (if set) and on close. Each frame is compressed,
// checksummed, preceded by a small skippable frame info (sequence number,
// record count, the frame's size and CRC-32) and written at once, so a
// process killed at any moment leaves every earlier frame intact; close()
// writes the end marker. The file appears only when complete: it is
// written under a temporary name and renamed on close() (traces/files.h),
// unless `in_place` or a flush interval is set (a live recording that a
// kill must leave readable). A writer destroyed by an exception leaves no
// file. Without a flush interval the bytes
// written are a function of the header and records alone (determinism
// checks compare files). Frames are written in the column layout
// (traces/columns.h), or, with `alloc_layout`, in the alloc layout
// (traces/alloc_frames.h), and the header always says this format version
// (kVersionMajor.kVersionMinor), whatever `header` says. Not thread-safe,
// except that the flush thread of a flush interval synchronises with append().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "traces/alloc_frames.h"
#include "traces/columns.h"
#include "traces/files.h"
#include "traces/format.h"
#include "traces/record.h"

namespace weft::traces {

struct WriterOptions {
  std::size_t records_per_frame = 4096;
  int compression_level = 3;
  // Store each frame uncompressed (a zstd frame of raw blocks, checked by
  // its frame info's CRC-32 alone): for a writer whose CPU time counts
  // more than the file's size (the recording process of `weft alloc
  // record`). compression_level is then unused.
  bool store = false;
  // Frames in the alloc layout (format 2.4, traces/alloc_frames.h): only
  // AllocRecords may be appended (anything else throws std::logic_error).
  bool alloc_layout = false;
  // Also close a frame once it has been open this long (0: never). A
  // background thread does it, so a recorder that goes quiet still lands
  // what it has; frame boundaries then depend on timing.
  std::chrono::milliseconds flush_interval{0};
  // Write at most this many bytes per write(2) (0: a frame at once). For
  // tests that need a kill to tear a frame, and for slow sinks.
  std::size_t write_chunk = 0;
  // Write `path` itself from the start rather than a temporary file
  // renamed on close(): what a recorder that may be killed needs. Implied
  // by a flush interval. WEFT_TRACES_IN_PLACE_DEFAULT (the unsanitized
  // build the LD_PRELOAD recorder links) makes it the default.
#ifdef WEFT_TRACES_IN_PLACE_DEFAULT
  bool in_place = true;
#else
  bool in_place = false;
#endif
};

class TraceWriter {
 public:
  // Starts `path` (a temporary file beside it unless in place) with the
  // header. Throws std::system_error if the file cannot be written.
  TraceWriter(const std::string& path, const TraceHeader& header,
              WriterOptions options = {});
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void append(const Record& record);
  // The same for an allocator call, without making a Record of it first
  // (inline: the recording parent of `weft alloc record` appends millions
  // a second).
  void append(const AllocRecord& record) {
    if (options_.alloc_layout && !flusher_.joinable()) {
      allocs_.add(record);
      if (allocs_.size() >= options_.records_per_frame) flush_locked();
      return;
    }
    append_other(record);
  }
  // Closes the current frame and writes it.
  void flush();
  // Writes the last frame and the end marker and makes the file appear.
  void close();
  // Frames written so far.
  std::uint64_t frames() const { return frames_; }

 private:
  void append_other(const AllocRecord& record);
  template <class R>
  void add(const R& record);
  std::uint64_t pending() const;
  void flush_locked();
  void compress(const std::string& content);
  void write_all(const std::string& bytes);
  void flush_loop();

  std::string path_;
  WriterOptions options_;
  std::unique_ptr<AtomicFile> file_;
  int fd_ = -1;
  std::uint32_t header_crc_ = 0;
  std::uint64_t records_ = 0;  // in frames written
  int uncaught_ = 0;           // std::uncaught_exceptions() when made
  ColumnEncoder pending_;      // the records of the open frame
  AllocFrameEncoder allocs_;   // the same, in the alloc layout
  std::string content_;        // scratch: a frame's content before zstd
  std::string frame_;          // scratch: the frame, compressed or stored
  std::string out_;            // scratch: frame info and frame
  std::uint64_t frames_ = 0;
  void* cctx_ = nullptr;

  // Only with a flush interval.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace weft::traces
