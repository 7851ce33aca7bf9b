#include "sim/harness/checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sim/harness/explore.h"
#include "sim/state_bytes.h"
#include "sim/strategy.h"
#include "traces/files.h"

namespace weft::sim {
namespace {

constexpr std::string_view kMagic = "WEFTCKPT";
constexpr std::uint64_t kMaxShards = 1'000'000;

// FNV-1a over the bytes: catches a flipped or lost byte, not an attacker.
std::uint64_t checksum(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace

// "WEFTCKPT", u32 version, the strategy and its configuration, shard index
// and total, schedules, the strategy's state, then the checksum of all the
// bytes before it (u64).
std::string encode_checkpoint(const Checkpoint& c) {
  StateWriter w;
  for (char ch : kMagic) w.u8(static_cast<std::uint8_t>(ch));
  w.u32(kCheckpointVersion);
  w.bytes(c.strategy);
  w.bytes(c.config);
  w.u64(c.shard_index);
  w.u64(c.shard_total);
  w.u64(c.schedules);
  w.bytes(c.state);
  std::string out = w.str();
  StateWriter sum;
  sum.u64(checksum(out));
  return out + sum.str();
}

Checkpoint decode_checkpoint(std::string_view bytes) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    throw StateError(0, "not a weft checkpoint (no WEFTCKPT at the start)");
  if (bytes.size() < kMagic.size() + 4 + 8)
    throw StateError(bytes.size(), "truncated checkpoint");
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  StateReader tail(bytes.substr(body.size()), body.size());
  const std::uint64_t want = tail.u64("checksum");
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  if (checksum(body) != want)
    throw StateError(body.size(),
                     "checksum mismatch: the file is corrupt or truncated");
#else
  (void)want;
#endif
  StateReader r(body.substr(kMagic.size()), kMagic.size());
  const std::size_t version_at = r.offset();
  const std::uint32_t version = r.u32("version");
  if (version != kCheckpointVersion)
    throw StateError(version_at, "checkpoint format version " +
                                     std::to_string(version) +
                                     ", this weft reads version " +
                                     std::to_string(kCheckpointVersion));
  Checkpoint c;
  c.strategy = std::string(r.bytes("strategy name"));
  c.config = std::string(r.bytes("configuration"));
  const std::size_t shard_at = r.offset();
  c.shard_offset = shard_at;
  c.shard_index = r.u64("shard index");
  c.shard_total = r.u64("shard count");
  if (c.shard_total == 0 || c.shard_total > kMaxShards ||
      c.shard_index >= c.shard_total)
    throw StateError(shard_at, "shard " + std::to_string(c.shard_index) +
                                   " of " + std::to_string(c.shard_total) +
                                   " is not a shard");
  c.schedules = r.u64("schedule count");
  c.state_offset = r.offset() + 4;
  c.state = std::string(r.bytes("strategy state"));
  if (!r.at_end())
    throw StateError(r.offset(), "unexpected bytes after the state");
  return c;
}

bool read_checkpoint(const std::string& path, Checkpoint& out) {
  if (access(path.c_str(), F_OK) != 0 && errno == ENOENT) return false;
  std::string bytes;
  try {
    const int fd = traces::open_input(path, "checkpoint");
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        throw std::system_error(err, std::generic_category(), path);
      }
      if (n == 0) break;
      bytes.append(buf, static_cast<std::size_t>(n));
      if (bytes.size() > (std::size_t{1} << 30))
        throw StateError(bytes.size(), "larger than 1 GiB: not a checkpoint");
    }
    ::close(fd);
    out = decode_checkpoint(bytes);
  } catch (const StateError& e) {
    throw ConfigError("WEFT_CHECKPOINT: " + path + ": byte " +
                      std::to_string(e.offset()) + ": " + e.what());
  } catch (const std::exception& e) {
    throw ConfigError("WEFT_CHECKPOINT: " + std::string(e.what()));
  }
  return true;
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  traces::write_file_atomically(path, encode_checkpoint(c));
}

void resume_checkpoint(ExploreOptions& o, Strategy& s,
                       std::uint64_t shard_index, std::uint64_t shard_total) {
  if (!s.save())
    throw ConfigError(
        "WEFT_CHECKPOINT applies to an exhaustive search "
        "(WEFT_STRATEGY=dfs or dpor), not to " +
        s.name());
  s.split(shard_index, shard_total);
  Checkpoint c;
  if (!read_checkpoint(o.checkpoint_file, c)) return;
  const std::string where = "WEFT_CHECKPOINT: " + o.checkpoint_file;
  if (c.strategy != s.name() || c.config != s.environment())
    throw ConfigError(where + ": byte 12: a checkpoint of another search (" +
                      c.config + "), not of this one (" + s.environment() +
                      ")");
  if (c.shard_index != shard_index || c.shard_total != shard_total)
    throw ConfigError(where + ": byte " + std::to_string(c.shard_offset) +
                      ": saved by shard " + std::to_string(c.shard_index) +
                      " of " + std::to_string(c.shard_total) +
                      ", this is shard " + std::to_string(shard_index) +
                      " of " + std::to_string(shard_total));
  try {
    s.restore(c.state, c.state_offset);
  } catch (const StateError& e) {
    throw ConfigError(where + ": byte " + std::to_string(e.offset()) + ": " +
                      e.what());
  }
  o.resumed_schedules = c.schedules;
}

void save_checkpoint(const ExploreOptions& o, const Strategy& s,
                     std::uint64_t shard_index, std::uint64_t shard_total,
                     std::uint64_t schedules) {
  Checkpoint c;
  c.strategy = s.name();
  c.config = s.environment();
  c.shard_index = shard_index;
  c.shard_total = shard_total;
  c.schedules = schedules;
  c.state = s.save().value_or("");
  write_checkpoint(o.checkpoint_file, c);
}

}  // namespace weft::sim
