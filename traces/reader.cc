#include "traces/reader.h"

#include <sys/stat.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "traces/columns.h"
#include "traces/varint.h"

namespace weft::traces {
namespace {

// Bounds that a corrupt length field cannot exceed.
constexpr std::size_t kMaxHeader = 1 << 20;
constexpr std::size_t kMaxFrame = 64 << 20;
constexpr std::size_t kMaxContent = 256 << 20;
constexpr std::uint64_t kMaxMetadata = 4096;
// ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h only exposes to static linkers.
constexpr std::size_t kFrameHeaderMax = 18;

std::uint32_t le32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

TraceReader TraceReader::open(const std::string& path, bool strict) {
  TraceReader r;
  r.path_ = path;
  r.strict_ = strict;
  r.file_.reset(std::fopen(path.c_str(), "rb"));
  if (!r.file_)
    throw std::system_error(errno, std::generic_category(),
                            "cannot open trace file " + path);
  struct stat st {};
  fstat(fileno(r.file_.get()), &st);
  if (S_ISDIR(st.st_mode))
    throw std::system_error(EISDIR, std::generic_category(),
                            "cannot open trace file " + path);
  r.summary_.file_bytes = static_cast<std::uint64_t>(st.st_size);
  if (r.summary_.file_bytes == 0)
    throw TraceError(path, 0, "empty file: not a weft trace");

  std::string head(std::min<std::uint64_t>(r.summary_.file_bytes, kMaxHeader),
                   '\0');
  head.resize(std::fread(head.data(), 1, head.size(), r.file_.get()));
  if (head.size() < sizeof kMagic ||
      std::memcmp(head.data(), kMagic, sizeof kMagic) != 0) {
    // A file that starts like ours but ends early is truncated, not foreign.
    const std::size_t n = std::min(head.size(), sizeof kMagic);
    if (head.size() < sizeof kMagic && std::memcmp(head.data(), kMagic, n) == 0)
      throw TraceError(path, head.size(), "truncated header");
    throw TraceError(path, 0, "not a weft trace (no 'WEFTTRC' magic)");
  }
  ByteReader in(head.data() + sizeof kMagic, head.size() - sizeof kMagic);
  auto at = [&] { return sizeof kMagic + in.pos(); };
  const auto major = in.byte();
  const auto minor = in.byte();
  const auto kind = in.byte();
  if (!major || !minor || !kind)
    throw TraceError(path, at(), "truncated header");
  if (*major > kVersionMajor)
    throw TraceError(path, sizeof kMagic,
                     "format version " + std::to_string(*major) + "." +
                         std::to_string(*minor) +
                         " is newer than this weft reads (" +
                         std::to_string(kVersionMajor) + "." +
                         std::to_string(kVersionMinor) + "); use a newer weft");
  if (*kind > static_cast<std::uint8_t>(TraceKind::kAllocLog))
    throw TraceError(path, at() - 1,
                     "unknown trace kind " + std::to_string(*kind));
  r.header_.version_major = *major;
  r.header_.version_minor = *minor;
  r.header_.kind = static_cast<TraceKind>(*kind);
  const auto count = in.varint();
  if (!count) throw TraceError(path, at(), "truncated header");
  if (*count > kMaxMetadata)
    throw TraceError(path, at(), "implausible metadata count");
  for (std::uint64_t i = 0; i < *count; ++i) {
    std::string kv[2];
    for (auto& s : kv) {
      const auto n = in.varint();
      if (!n) throw TraceError(path, at(), "truncated header");
      auto bytes = in.bytes(static_cast<std::size_t>(*n));
      if (!bytes) throw TraceError(path, at(), "truncated header");
      s = std::move(*bytes);
    }
    r.header_.metadata.emplace_back(std::move(kv[0]), std::move(kv[1]));
  }
  r.data_start_ = at();
  r.summary_.consumed = r.data_start_;
  return r;
}

Generator<Record> TraceReader::records() {
  std::FILE* f = file_.get();
  std::uint64_t offset = data_start_;
  std::fseek(f, static_cast<long>(offset), SEEK_SET);
  std::string buf;  // bytes of the file from `offset` on
  bool eof = false;
  std::string content;
  std::optional<std::uint64_t> announced;  // by the last frame info
  std::uint64_t info_offset = 0;           // where that frame info starts
  auto note_lost = [&](std::uint64_t at, std::uint64_t bytes) {
    summary_.lost_at = at;
    summary_.lost_bytes = bytes;
    if (strict_)
      throw TraceError(
          path_, at,
          "truncated frame (" + std::to_string(bytes) + " bytes lost)");
  };

  auto fill = [&](std::size_t want) {
    while (buf.size() < want && !eof) {
      const std::size_t old = buf.size();
      buf.resize(std::max(want, old + 65536));
      const std::size_t n =
          std::fread(buf.data() + old, 1, buf.size() - old, f);
      buf.resize(old + n);
      if (n == 0) eof = true;
    }
  };

  for (;;) {
    fill(kFrameHeaderMax);
    if (buf.empty()) {
      // A frame info whose frame never landed: the writer died between.
      if (announced) note_lost(info_offset, offset - info_offset);
      break;
    }
    std::size_t size = ZSTD_findFrameCompressedSize(buf.data(), buf.size());
    while (ZSTD_isError(size) &&
           ZSTD_getErrorCode(size) == ZSTD_error_srcSize_wrong && !eof &&
           buf.size() < kMaxFrame) {
      fill(buf.size() * 2);
      size = ZSTD_findFrameCompressedSize(buf.data(), buf.size());
    }
    if (ZSTD_isError(size)) {
      if (ZSTD_getErrorCode(size) == ZSTD_error_srcSize_wrong && eof) {
        // A frame cut short: what a killed writer leaves.
        if (announced)
          note_lost(info_offset, offset + buf.size() - info_offset);
        else
          note_lost(offset, buf.size());
        break;
      }
      throw TraceError(
          path_, offset,
          std::string("corrupt frame: ") + ZSTD_getErrorName(size));
    }
    const std::uint32_t magic = le32(buf.data());
    if ((magic & 0xFFFFFFF0u) == 0x184D2A50u) {
      // A skippable frame: ours carries the next frame's sequence number
      // and record count; anyone else's is skipped.
      if (magic == kFrameInfoMagic) {
        ByteReader meta(buf.data() + 8, size - 8);
        const auto seq = meta.varint();
        const auto n = meta.varint();
        if (!seq || !n || !meta.at_end())
          throw TraceError(path_, offset, "corrupt frame info");
        if (*seq != summary_.frames)
          throw TraceError(path_, offset,
                           "frame " + std::to_string(*seq) + " where frame " +
                               std::to_string(summary_.frames) +
                               " was due: frames are missing or repeated");
        announced = *n;
        info_offset = offset;
      }
      buf.erase(0, size);
      offset += size;
      continue;
    }
    const unsigned long long declared =
        ZSTD_getFrameContentSize(buf.data(), size);
    if (declared == ZSTD_CONTENTSIZE_ERROR ||
        declared == ZSTD_CONTENTSIZE_UNKNOWN || declared > kMaxContent)
      throw TraceError(path_, offset, "corrupt frame: bad content size");
    content.resize(static_cast<std::size_t>(declared));
    const std::size_t got =
        ZSTD_decompress(content.data(), content.size(), buf.data(), size);
    if (ZSTD_isError(got) || got != declared)
      throw TraceError(
          path_, offset,
          std::string("corrupt frame: ") +
              (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch"));
    ByteReader in(content.data(), content.size());
    const auto count = in.varint();
    if (!count || *count > content.size())
      throw TraceError(path_, offset, "corrupt frame: bad record count");
    if (announced && *announced != *count)
      throw TraceError(path_, offset,
                       "frame holds " + std::to_string(*count) +
                           " records but its frame info says " +
                           std::to_string(*announced));
    announced.reset();
    const std::uint64_t frame_offset = offset;
    buf.erase(0, size);
    offset += size;
    ++summary_.frames;
    summary_.consumed = offset;
    if (!in.at_end() &&
        static_cast<std::uint8_t>(content[in.pos()]) == kColumnMarker) {
      // Format 1.1: the records come out of the columns one at a time.
      ColumnDecoder columns;
      if (!columns.start(content.data() + in.pos() + 1,
                         content.size() - in.pos() - 1, *count))
        throw TraceError(path_, frame_offset,
                         std::string("corrupt frame: ") + columns.error());
      for (std::uint64_t i = 0; i < *count; ++i) {
        auto record = columns.next();
        if (!record)
          throw TraceError(path_, frame_offset,
                           "malformed record " + std::to_string(i) +
                               " in frame: " + columns.error());
        ++summary_.records;
        co_yield std::move(*record);
      }
      if (!columns.finish())
        throw TraceError(path_, frame_offset,
                         std::string("corrupt frame: ") + columns.error());
      continue;
    }
    // Format 1.0: records row by row.
    for (std::uint64_t i = 0; i < *count; ++i) {
      auto record = decode(in);
      if (!record)
        throw TraceError(path_, frame_offset,
                         "malformed record " + std::to_string(i) + " in frame");
      ++summary_.records;
      co_yield std::move(*record);
    }
    if (!in.at_end())
      throw TraceError(path_, frame_offset, "trailing bytes in frame");
  }
}

}  // namespace weft::traces
