#include "traces/writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <variant>

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

// Under the flush thread's lock when there is one.
template <class R>
void TraceWriter::add(const R& record) {
  std::unique_lock lock(mu_, std::defer_lock);
  if (flusher_.joinable()) lock.lock();
  if (options_.alloc_layout) {
    if constexpr (std::is_same_v<R, AllocRecord>) {
      allocs_.add(record);
    } else if (const auto* a = std::get_if<AllocRecord>(&record)) {
      allocs_.add(*a);
    } else {
      throw std::logic_error(path_ +
                             ": a record other than an allocator call in "
                             "an alloc-layout trace");
    }
  } else {
    pending_.add(record);
  }
  if (pending() >= options_.records_per_frame) flush_locked();
}

std::uint64_t TraceWriter::pending() const {
  return options_.alloc_layout ? allocs_.size() : pending_.size();
}

void TraceWriter::append(const Record& record) { add(record); }

void TraceWriter::append_other(const AllocRecord& record) { add(record); }

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

namespace {

// A stored frame: a zstd frame header (single segment, the content size
// in 8 bytes, no checksum) and the content in raw blocks of at most 128
// KiB, each after its 3-byte block header (last-block bit, type 0 raw,
// size). zstd reads it as any other frame, at the speed of a copy.
void store_frame(const std::string& content, std::string& frame) {
  constexpr std::size_t kBlock = std::size_t{1} << 17;
  frame.clear();
  put_le32(frame, 0xFD2FB528u);  // zstd's frame magic
  frame.push_back(static_cast<char>(0xE0));
  for (int i = 0; i < 8; ++i)
    frame.push_back(
        static_cast<char>(static_cast<std::uint64_t>(content.size()) >> 8 * i));
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(kBlock, content.size() - at);
    const std::uint32_t block_header =
        static_cast<std::uint32_t>(n << 3) | (at + n == content.size() ? 1 : 0);
    for (int i = 0; i < 3; ++i)
      frame.push_back(static_cast<char>(block_header >> 8 * i));
    frame.append(content, at, n);
    at += n;
  } while (at < content.size());
}

}  // namespace

void TraceWriter::compress(const std::string& content) {
  if (options_.store) {
    store_frame(content, frame_);
    return;
  }
  frame_.resize(ZSTD_compressBound(content.size()));
  const std::size_t n =
      ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), frame_.data(),
                     frame_.size(), content.data(), content.size());
  if (ZSTD_isError(n))
    throw std::runtime_error(path_ + ": zstd: " + ZSTD_getErrorName(n));
  frame_.resize(n);
}

void TraceWriter::flush_locked() {
  const std::uint64_t count = pending();
  if (count == 0 || fd_ < 0) return;
  std::string& content = content_;
  content.clear();
  if (options_.alloc_layout)
    allocs_.finish(content);
  else
    pending_.finish(content);
  compress(content);
  // The frame info first: sequence number, record count, and the frame's
  // size and CRC, so a reader can check the frame on its own, find the next
  // one past damage and tell a missing or reordered frame.
  std::string info;
  put_varint(info, frames_);
  put_varint(info, count);
  put_varint(info, frame_.size());
  put_le32(info, crc32_of(frame_.data(), frame_.size()));
  // Into buffers kept from frame to frame: a fresh one each time had the
  // heap grow and shrink, page faults and all.
  out_.clear();
  out_ += marker(kFrameInfoMagic, header_crc_, info);
  out_ += frame_;
  write_all(out_);
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
