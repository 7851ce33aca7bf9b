#include "traces/writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <system_error>

#include "traces/checksum.h"
#include "traces/varint.h"

namespace weft::traces {
namespace {

// A skippable frame: magic, payload size, payload, then the payload's CRC
// (counted in the size).
std::string marker(std::uint32_t magic, std::uint32_t header_crc,
                   const std::string& payload) {
  std::string out;
  put_le32(out, magic);
  put_le32(out, static_cast<std::uint32_t>(payload.size() + 4));
  out += payload;
  put_le32(out, marker_crc(header_crc, payload.data(), payload.size()));
  return out;
}

}  // namespace

std::string TraceHeader::get(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return v;
  return "";
}

TraceWriter::TraceWriter(const std::string& path, const TraceHeader& header,
                         WriterOptions options)
    : path_(path), options_(options), uncaught_(std::uncaught_exceptions()) {
  if (options_.records_per_frame == 0) options_.records_per_frame = 1;
  if (options_.in_place || options_.flush_interval.count() > 0) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot create trace file " + path);
  } else {
    file_ = std::make_unique<AtomicFile>(path);
    fd_ = file_->fd();
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
                         options_.compression_level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  cctx_ = cctx;

  std::string bytes(kMagic, sizeof kMagic);
  // The version of what this writer writes, not of the header it was
  // given (which may come from an older file).
  bytes.push_back(static_cast<char>(kVersionMajor));
  bytes.push_back(static_cast<char>(kVersionMinor));
  bytes.push_back(static_cast<char>(header.kind));
  put_varint(bytes, header.metadata.size());
  for (const auto& [k, v] : header.metadata) {
    put_varint(bytes, k.size());
    bytes += k;
    put_varint(bytes, v.size());
    bytes += v;
  }
  header_crc_ = crc32_of(bytes.data(), bytes.size());
  put_le32(bytes, header_crc_);
  write_all(bytes);
  if (options_.flush_interval.count() > 0)
    flusher_ = std::thread([this] { flush_loop(); });
}

TraceWriter::~TraceWriter() {
  if (std::uncaught_exceptions() > uncaught_ && file_) {
    // Destroyed by an exception: the output is incomplete, so none.
    if (flusher_.joinable()) {
      {
        std::lock_guard lock(mu_);
        stopping_ = true;
      }
      cv_.notify_all();
      flusher_.join();
    }
    file_->discard();
    fd_ = -1;
    ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
    return;
  }
  try {
    close();
  } catch (...) {
    // A destructor cannot report; close() explicitly to see errors.
  }
}

void TraceWriter::append(const Record& record) {
  if (flusher_.joinable()) {
    std::lock_guard lock(mu_);
    pending_.add(record);
    if (pending_.size() >= options_.records_per_frame) flush_locked();
    return;
  }
  pending_.add(record);
  if (pending_.size() >= options_.records_per_frame) flush_locked();
}

void TraceWriter::flush() {
  if (flusher_.joinable()) {
    std::lock_guard lock(mu_);
    flush_locked();
    return;
  }
  flush_locked();
}

void TraceWriter::flush_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.flush_interval);
    flush_locked();
  }
}

void TraceWriter::flush_locked() {
  if (pending_.size() == 0 || fd_ < 0) return;
  const std::uint64_t count = pending_.size();
  std::string& content = content_;
  content.clear();
  pending_.finish(content);
  std::string frame(ZSTD_compressBound(content.size()), '\0');
  const std::size_t n =
      ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), frame.data(), frame.size(),
                     content.data(), content.size());
  if (ZSTD_isError(n))
    throw std::runtime_error(path_ + ": zstd: " + ZSTD_getErrorName(n));
  frame.resize(n);
  // The frame info first: sequence number, record count, and the frame's
  // size and CRC, so a reader can check the frame on its own, find the next
  // one past damage and tell a missing or reordered frame.
  std::string info;
  put_varint(info, frames_);
  put_varint(info, count);
  put_varint(info, frame.size());
  put_le32(info, crc32_of(frame.data(), frame.size()));
  std::string out = marker(kFrameInfoMagic, header_crc_, info);
  out += frame;
  write_all(out);
  ++frames_;
  records_ += count;
}

void TraceWriter::close() {
  if (flusher_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    flusher_.join();
  }
  if (fd_ < 0) return;
  flush_locked();
  std::string end;
  put_varint(end, frames_);
  put_varint(end, records_);
  write_all(marker(kEndMagic, header_crc_, end));
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
  cctx_ = nullptr;
  if (file_) {
    fd_ = -1;
    file_->commit();
  } else {
    ::close(fd_);
    fd_ = -1;
  }
}

void TraceWriter::write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    std::size_t want = bytes.size() - done;
    if (options_.write_chunk > 0 && want > options_.write_chunk)
      want = options_.write_chunk;
    const ssize_t n = ::write(fd_, bytes.data() + done, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(),
                              "cannot write trace file " + path_);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace weft::traces
