#include "traces/writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <system_error>

#include "traces/varint.h"

namespace weft::traces {
namespace {

void put_le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

}  // namespace

std::string TraceHeader::get(const std::string& key) const {
  for (const auto& [k, v] : metadata)
    if (k == key) return v;
  return "";
}

TraceWriter::TraceWriter(const std::string& path, const TraceHeader& header,
                         WriterOptions options)
    : path_(path), options_(options) {
  if (options_.records_per_frame == 0) options_.records_per_frame = 1;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create trace file " + path);
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
  write_all(bytes);
  if (options_.flush_interval.count() > 0)
    flusher_ = std::thread([this] { flush_loop(); });
}

TraceWriter::~TraceWriter() {
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
  // The skippable frame first: sequence number and record count, so a
  // reader can tell a missing or repeated frame from a whole file.
  std::string meta;
  put_varint(meta, frames_);
  put_varint(meta, pending_.size());
  std::string& content = content_;
  content.clear();
  pending_.finish(content);
  std::string out;
  put_le32(out, kFrameInfoMagic);
  put_le32(out, static_cast<std::uint32_t>(meta.size()));
  out += meta;
  const std::size_t at = out.size();
  out.resize(at + ZSTD_compressBound(content.size()));
  const std::size_t n =
      ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx_), out.data() + at,
                     out.size() - at, content.data(), content.size());
  if (ZSTD_isError(n))
    throw std::runtime_error(path_ + ": zstd: " + ZSTD_getErrorName(n));
  out.resize(at + n);
  write_all(out);
  ++frames_;
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
  ::close(fd_);
  fd_ = -1;
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(cctx_));
  cctx_ = nullptr;
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
