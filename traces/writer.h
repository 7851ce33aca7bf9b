// TraceWriter appends records to a trace file. Records are batched into
// frames; a frame closes every `records_per_frame` records, every
// `flush_interval` (if set) and on close. Each frame is compressed,
// checksummed, preceded by a small skippable frame with its sequence number
// and record count, and written at once, so a process killed at any moment
// leaves every earlier frame intact. Without a flush interval the bytes
// written are a function of the header and records alone (determinism
// checks compare files). Frames are written in the column layout
// (traces/columns.h) and the header always says this format version
// (kVersionMajor.kVersionMinor), whatever `header` says. Not thread-safe,
// except that the flush thread of a flush interval synchronises with append().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "traces/columns.h"
#include "traces/format.h"
#include "traces/record.h"

namespace weft::traces {

struct WriterOptions {
  std::size_t records_per_frame = 4096;
  int compression_level = 3;
  // Also close a frame once it has been open this long (0: never). A
  // background thread does it, so a recorder that goes quiet still lands
  // what it has; frame boundaries then depend on timing.
  std::chrono::milliseconds flush_interval{0};
  // Write at most this many bytes per write(2) (0: a frame at once). For
  // tests that need a kill to tear a frame, and for slow sinks.
  std::size_t write_chunk = 0;
};

class TraceWriter {
 public:
  // Creates (or truncates) `path` and writes the header. Throws
  // std::system_error if the file cannot be written.
  TraceWriter(const std::string& path, const TraceHeader& header,
              WriterOptions options = {});
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void append(const Record& record);
  // Closes the current frame and writes it.
  void flush();
  void close();
  // Frames written so far.
  std::uint64_t frames() const { return frames_; }

 private:
  void flush_locked();
  void write_all(const std::string& bytes);
  void flush_loop();

  std::string path_;
  WriterOptions options_;
  int fd_ = -1;
  ColumnEncoder pending_;  // the records of the open frame
  std::string content_;    // scratch: a frame's content before zstd
  std::uint64_t frames_ = 0;
  void* cctx_ = nullptr;

  // Only with a flush interval.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace weft::traces
