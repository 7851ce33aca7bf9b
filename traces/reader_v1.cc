// Format 1 files (1.0 rows, 1.1 columns): frames found by walking zstd's
// frame headers, checked by zstd's content checksum, a frame info with a
// sequence number and record count before each. Without an index a reader
// cannot find the frame after damage, so damage ends the read (TraceError);
// a cut tail is a loss. Format 2 files read in reader_v2.cc.
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>

#include "traces/checksum.h"
#include "traces/columns.h"
#include "traces/reader.h"
#include "traces/reader_limits.h"
#include "traces/varint.h"

namespace weft::traces {

Generator<Record> TraceReader::records_v1() {
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
    const std::uint32_t magic = get_le32(buf.data());
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
