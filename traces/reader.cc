#include "traces/reader.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "traces/checksum.h"
#include "traces/files.h"
#include "traces/reader_limits.h"
#include "traces/varint.h"

namespace weft::traces {
namespace {

std::string version(int major, int minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// The versions this reader knows: "1.0, 1.1, 2.0, 2.1, 2.2, 2.3".
std::string known() {
  std::string s;
  for (int minor = 0; minor <= kVersion1Minor; ++minor)
    s += version(1, minor) + ", ";
  for (int minor = 0; minor <= kVersionMinor; ++minor)
    s += version(kVersionMajor, minor) + (minor < kVersionMinor ? ", " : "");
  return s;
}

// Refuses a version this reader does not know, newer or not.
void check_version(const std::string& path, std::uint8_t major,
                   std::uint8_t minor) {
  const std::string ours = version(kVersionMajor, kVersionMinor);
  if (major > kVersionMajor ||
      (major == kVersionMajor && minor > kVersionMinor))
    throw TraceError(path, sizeof kMagic,
                     "format version " + version(major, minor) +
                         " is newer than this weft reads (" + ours +
                         "); use a newer weft");
  if (major == 0 || (major == 1 && minor > kVersion1Minor)) {
    throw TraceError(path, sizeof kMagic,
                     "format version " + version(major, minor) +
                         " is not one this weft reads (" + known() +
                         "): the header is damaged or was not written by "
                         "weft");
  }
}

}  // namespace

TraceReader TraceReader::open(const std::string& path, bool strict) {
  TraceReader r;
  r.path_ = path;
  r.strict_ = strict;
  const int fd = open_input(path, "trace file");
  r.file_.reset(::fdopen(fd, "rb"));
  if (!r.file_) {
    ::close(fd);
    throw std::system_error(errno, std::generic_category(),
                            "cannot open trace file " + path);
  }
  struct stat st {};
  fstat(fd, &st);
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
  check_version(path, *major, *minor);
  r.header_.version_major = *major;
  r.header_.version_minor = *minor;
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
  if (*major >= 2) {
    const std::size_t end = at();
    if (!in.bytes(4)) throw TraceError(path, at(), "truncated header");
    r.header_crc_ = crc32_of(head.data(), end);
    if (!checksums_off() && get_le32(head.data() + end) != r.header_crc_)
      throw TraceError(path, end,
                       "header checksum mismatch: the header (kind, "
                       "metadata) is damaged");
  }
  if (*kind > static_cast<std::uint8_t>(TraceKind::kFlight))
    throw TraceError(path, sizeof kMagic + 2,
                     "unknown trace kind " + std::to_string(*kind));
  r.header_.kind = static_cast<TraceKind>(*kind);
  r.data_start_ = at();
  r.summary_.consumed = r.data_start_;
  r.summary_.closed = *major < 2;  // format 1 has no end marker
  return r;
}

Generator<Record> TraceReader::records() {
  return header_.version_major >= 2 ? records_v2() : records_v1();
}

void TraceReader::note(Damage d) {
  if (strict_) throw TraceError(path_, d.offset, d.what);
  ++summary_.damage_count;
  if (summary_.damage.size() < ReadSummary::kMaxDamage)
    summary_.damage.push_back(std::move(d));
}

std::optional<std::uint64_t> ReadSummary::records_lost() const {
  if (records_written)
    return *records_written > records ? *records_written - records : 0;
  if (!closed) return std::nullopt;
  std::uint64_t n = tail_records;
  for (const Damage& d : damage) {
    if (!d.records_lost) return std::nullopt;
    n += *d.records_lost;
  }
  return damage.size() == damage_count ? std::optional(n) : std::nullopt;
}

std::vector<std::string> describe_losses(const std::string& path,
                                         const ReadSummary& s) {
  std::vector<std::string> out;
  if (!s.lossy()) return out;
  const std::string of =
      s.frames_written ? " of " + std::to_string(*s.frames_written) : "";
  for (const Damage& d : s.damage) {
    std::string line = path + ": ";
    if (d.frame && d.frame_count > 1)
      line += "frames " + std::to_string(*d.frame) + " to " +
              std::to_string(*d.frame + d.frame_count - 1) + of + " ";
    else if (d.frame)
      line += "frame " + std::to_string(*d.frame) + of + " ";
    line += d.what + " at byte " + std::to_string(d.offset);
    if (d.records_lost)
      line += ": " + std::to_string(*d.records_lost) + " records lost";
    out.push_back(line);
  }
  if (s.damage_count > s.damage.size())
    out.push_back(path + ": and " +
                  std::to_string(s.damage_count - s.damage.size()) +
                  " more damaged stretches after the one at byte " +
                  std::to_string(s.damage.back().offset));
  if (s.lost_bytes != 0)
    out.push_back(path + ": cut short at byte " + std::to_string(s.lost_at) +
                  ": the last " + std::to_string(s.lost_bytes) +
                  " bytes are an unfinished frame (was its writer killed?)");
  else if (!s.closed)
    out.push_back(path + ": no end marker at byte " +
                  std::to_string(s.consumed) +
                  ": the writer did not close the file (was it killed?), "
                  "so records after it may be lost");
  const auto lost = s.records_lost();
  const std::uint64_t first = !s.damage.empty()   ? s.damage.front().offset
                              : s.lost_bytes != 0 ? s.lost_at
                                                  : s.consumed;
  out.push_back(
      path + ": " + std::to_string(s.frames) + of + " frames read (" +
      std::to_string(s.records) + " records), " +
      (lost ? std::to_string(*lost) : std::string("an unknown number of")) +
      " records lost, the first loss at byte " + std::to_string(first));
  return out;
}

}  // namespace weft::traces
