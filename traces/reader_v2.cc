// Format 2 files: each record frame follows a frame info that gives its
// sequence number, record count, size and CRC-32, the info guarded by a
// CRC-32 of its own seeded with the header's, and an end marker closes the
// file. So every frame is checked on its own, the next frame info is where
// the last one says (or, past damage, found by scanning for a frame info
// whose CRC holds), and a frame missing, repeated or out of place is told
// by its sequence number. Damage is noted (TraceReader::note) and the read
// goes on.
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "traces/alloc_frames.h"
#include "traces/checksum.h"
#include "traces/columns.h"
#include "traces/reader.h"
#include "traces/reader_limits.h"
#include "traces/varint.h"

namespace weft::traces {
namespace {

// Bytes of the file, read where asked (fewer at its end).
struct File {
  int fd;
  std::uint64_t size;
  std::string read(std::uint64_t at, std::size_t n) const {
    std::string out(at >= size ? 0 : std::min<std::uint64_t>(n, size - at),
                    '\0');
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t got = ::pread(fd, out.data() + done, out.size() - done,
                                  static_cast<off_t>(at + done));
      if (got <= 0) break;
      done += static_cast<std::size_t>(got);
    }
    out.resize(done);
    return out;
  }
};

struct Marker {
  bool end = false;
  std::uint64_t size = 0;         // of the whole skippable frame
  std::uint64_t number = 0;       // info: sequence number; end: frames
  std::uint64_t records = 0;      // info: in its frame; end: in the file
  std::uint64_t frame_bytes = 0;  // info only
  std::uint32_t frame_crc = 0;    // info only
};

enum class Found {
  kMarker,   // a frame info or end marker whose CRC holds
  kForeign,  // someone else's skippable frame (size in marker.size)
  kCut,      // the start of a marker, cut by the end of the file
  kBad,      // anything else
};

bool ours(std::uint32_t magic) {
  return magic == kFrameInfoMagic || magic == kEndMagic;
}

Found parse_marker(const File& f, std::uint64_t at, std::uint32_t header_crc,
                   Marker& m) {
  const std::string b = f.read(at, kMaxMarker);
  if (b.size() < 8) {
    char magic[4];
    std::string info, end;
    put_le32(info, kFrameInfoMagic);
    put_le32(end, kEndMagic);
    const std::size_t n = std::min<std::size_t>(b.size(), 4);
    std::memcpy(magic, b.data(), n);
    const bool prefix = std::memcmp(magic, info.data(), n) == 0 ||
                        std::memcmp(magic, end.data(), n) == 0;
    return prefix ? Found::kCut : Found::kBad;
  }
  const std::uint32_t magic = get_le32(b.data());
  const std::uint64_t payload = get_le32(b.data() + 4);
  if ((magic & 0xFFFFFFF0u) != 0x184D2A50u) return Found::kBad;
  m.size = 8 + payload;
  if (!ours(magic))
    return at + m.size <= f.size ? Found::kForeign : Found::kBad;
  if (payload < 5 || m.size > kMaxMarker) return Found::kBad;
  if (m.size > b.size()) return Found::kCut;  // b holds all up to the end
  const char* p = b.data() + 8;
  const std::size_t body = payload - 4;
  if (!checksums_off() && marker_crc(header_crc, p, body) != get_le32(p + body))
    return Found::kBad;
  ByteReader in(p, body);
  m.end = magic == kEndMagic;
  const auto number = in.varint();
  const auto records = in.varint();
  if (!number || !records) return Found::kBad;
  m.number = *number;
  m.records = *records;
  if (!m.end) {
    const auto bytes = in.varint();
    const auto crc = in.bytes(4);
    if (!bytes || !crc || *bytes == 0 || *bytes > kMaxFrame) return Found::kBad;
    m.frame_bytes = *bytes;
    m.frame_crc = get_le32(crc->data());
  }
  return in.at_end() ? Found::kMarker : Found::kBad;
}

// The first marker at or after `from` whose CRC holds, looked for within a
// frame's maximum size; f.size if there is none.
std::uint64_t resync(const File& f, std::uint64_t from,
                     std::uint32_t header_crc) {
  const std::uint64_t limit =
      std::min<std::uint64_t>(f.size, from + kMaxFrame + 2 * kMaxMarker);
  constexpr std::size_t kChunk = 1 << 20;
  static const char tail[3] = {0x2a, 0x4d, 0x18};  // magic bytes 1..3
  for (std::uint64_t at = from; at < limit; at += kChunk) {
    const std::string b = f.read(at, kChunk + 3);
    for (std::size_t i = 0; i + 4 <= b.size() && i < kChunk;) {
      const void* hit = memmem(b.data() + i + 1, b.size() - i - 1, tail, 3);
      if (hit == nullptr) break;
      const std::size_t j =
          static_cast<std::size_t>(static_cast<const char*>(hit) - b.data()) -
          1;
      Marker m;
      if (ours(get_le32(b.data() + j)) &&
          parse_marker(f, at + j, header_crc, m) == Found::kMarker)
        return at + j;
      i = j + 1;
    }
  }
  return f.size;
}

// A frame's records, from whichever layout its content has.
struct FrameRecords {
  bool alloc = false;
  ColumnDecoder columns;
  AllocFrameDecoder allocs;

  std::optional<Record> next() {
    if (!alloc) return columns.next();
    AllocRecord r;
    if (!allocs.next(r)) return std::nullopt;
    return Record(std::in_place_type<AllocRecord>, r);
  }
  bool finish() { return alloc ? allocs.finish() : columns.finish(); }
  const char* error() const { return alloc ? allocs.error() : columns.error(); }
};

// Decompresses a record frame (bounded by the content size it declares)
// and starts decoding its columns or alloc records; nullptr, or what is
// wrong with it.
const char* open_frame(const std::string& frame, std::uint64_t records,
                       std::string& content, FrameRecords& decoder) {
  const unsigned long long declared =
      ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR ||
      declared == ZSTD_CONTENTSIZE_UNKNOWN || declared > kMaxContent)
    return "bad content size";
  content.resize(static_cast<std::size_t>(declared));
  const std::size_t got = ZSTD_decompress(content.data(), content.size(),
                                          frame.data(), frame.size());
  if (ZSTD_isError(got)) return ZSTD_getErrorName(got);
  if (got != declared) return "size mismatch";
  ByteReader in(content.data(), content.size());
  const auto count = in.varint();
  const auto layout = in.byte();
  if (!count || *count != records || !layout ||
      (*layout != kColumnMarker && *layout != kAllocMarker))
    return "record count or layout differs from its frame info";
  decoder.alloc = *layout == kAllocMarker;
  if (decoder.alloc) {
    decoder.allocs.start(content.data() + in.pos(), content.size() - in.pos(),
                         records);
    return nullptr;
  }
  if (!decoder.columns.start(content.data() + in.pos(),
                             content.size() - in.pos(), records))
    return decoder.columns.error();
  return nullptr;
}

// The damage a frame info or end marker at `at` shows before it: frames
// expected..number-1 missing (or damaged, if unreadable bytes began at
// `stretch`), or, if none is missing, unreadable bytes that hid no frame.
Damage gap_damage(std::uint64_t expected, std::uint64_t number,
                  std::optional<std::uint64_t> stretch, std::uint64_t at) {
  Damage d;
  d.offset = stretch.value_or(at);
  const std::string bytes = stretch ? std::to_string(at - *stretch) : "";
  if (number > expected) {
    d.frame = expected;
    d.frame_count = number - expected;
    d.what = stretch ? "damaged (" + bytes + " bytes unreadable, no frame info)"
                     : std::string("missing");
  } else {
    d.records_lost = 0;
    d.what = bytes + " unreadable bytes (no frame lost)";
  }
  return d;
}

}  // namespace

Generator<Record> TraceReader::records_v2() {
  const File f{fileno(file_.get()), summary_.file_bytes};
  std::uint64_t pos = data_start_;
  std::uint64_t expected = 0;  // the next sequence number due
  // Where unreadable bytes began, until the next marker explains them.
  std::optional<std::uint64_t> stretch;
  std::string frame, content;
  // What the marker at `at`, sequence number `number`, says of the frames
  // and bytes before it: frames missing, or bytes that hid no frame.
  auto gap = [&](std::uint64_t number, std::uint64_t at) {
    if (number > expected || stretch)
      note(gap_damage(expected, number, stretch, at));
    stretch.reset();
  };
  while (pos < f.size) {
    Marker m;
    const Found found = parse_marker(f, pos, header_crc_, m);
    if (found == Found::kForeign) {
      pos += m.size;
      continue;
    }
    if (found == Found::kCut && !stretch) {
      cut_tail(pos, 0);
      break;
    }
    if (found != Found::kMarker) {
      if (!stretch) stretch = pos;
      pos = resync(f, pos + 1, header_crc_);
      continue;
    }
    if (m.end) {
      summary_.closed = true;
      summary_.frames_written = m.number;
      summary_.records_written = m.records;
      gap(m.number, pos);
      pos += m.size;
      summary_.consumed = pos;
      if (pos < f.size)
        note(Damage{
            pos, std::nullopt, 0,
            std::to_string(f.size - pos) + " bytes after the end marker"});
      break;
    }
    const std::uint64_t at = pos + m.size;  // the record frame
    gap(std::max(m.number, expected), pos);
    if (at + m.frame_bytes > f.size) {  // a frame cut short
      cut_tail(pos, m.records);
      break;
    }
    pos = at + m.frame_bytes;
    if (m.number < expected) {
      note(Damage{
          at - m.size, m.number, m.records,
          "out of order (after frame " + std::to_string(expected - 1) + ")"});
      continue;
    }
    expected = m.number + 1;
    frame = f.read(at, m.frame_bytes);
    if (!checksums_off() &&
        crc32_of(frame.data(), frame.size()) != m.frame_crc) {
      note(Damage{at, m.number, m.records, "damaged (checksum mismatch)"});
      // Bytes deleted from or inserted into the frame move the next frame
      // info: look for it from the frame's start.
      pos = resync(f, at, header_crc_);
      continue;
    }
    FrameRecords columns;
    if (const char* why = open_frame(frame, m.records, content, columns)) {
      note(Damage{at, m.number, m.records,
                  std::string("damaged (corrupt frame: ") + why + ")"});
      continue;
    }
    summary_.consumed = pos;
    std::uint64_t i = 0;
    for (; i < m.records; ++i) {
      auto record = columns.next();
      if (!record) break;
      ++summary_.records;
      co_yield std::move(*record);
    }
    if (i < m.records || !columns.finish()) {
      note(Damage{at, m.number, m.records - i,
                  std::string("damaged (malformed record ") +
                      std::to_string(i) + ": " + columns.error() + ")"});
      continue;
    }
    ++summary_.frames;
  }
  if (stretch) {
    note(Damage{*stretch, std::nullopt, std::nullopt,
                std::to_string(f.size - *stretch) +
                    " unreadable bytes to the end of the file (no frame "
                    "info found)"});
  }
  if (!summary_.closed && summary_.lost_bytes == 0 && strict_)
    throw TraceError(path_, summary_.consumed,
                     "no end marker: the writer did not close the file");
}

void TraceReader::cut_tail(std::uint64_t at, std::uint64_t records) {
  summary_.lost_at = at;
  summary_.lost_bytes = summary_.file_bytes - at;
  summary_.tail_records = records;
  if (strict_)
    throw TraceError(path_, at,
                     "truncated frame (" + std::to_string(summary_.lost_bytes) +
                         " bytes lost)");
}

}  // namespace weft::traces
