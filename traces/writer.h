// TraceWriter appends records to a trace file. Records are batched into
// frames of `records_per_frame`; each frame is compressed, checksummed and
// written with one write(2), so a process killed at any moment leaves
// every earlier frame intact. The bytes written are a function of the
// header and records alone (determinism checks compare files).
#pragma once

#include <cstddef>
#include <string>

#include "traces/format.h"
#include "traces/record.h"

namespace weft::traces {

struct WriterOptions {
  std::size_t records_per_frame = 4096;
  int compression_level = 3;
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

 private:
  void write_all(const std::string& bytes);

  std::string path_;
  WriterOptions options_;
  int fd_ = -1;
  std::string pending_;  // encoded records of the open frame
  std::size_t pending_count_ = 0;
  void* cctx_ = nullptr;
};

}  // namespace weft::traces
