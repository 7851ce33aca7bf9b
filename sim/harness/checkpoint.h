// WEFT_CHECKPOINT files: where an exhaustive search (dfs) stood, so a later
// run resumes it and covers exactly the schedules an uninterrupted run
// would have. Versioned and checksummed; written atomically (AtomicFile),
// so a crash mid-write leaves the previous checkpoint. Anything that is not
// a checkpoint of this search (corrupt, truncated, another strategy, other
// bounds, another shard) is refused with the file and byte offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace weft::sim {

struct Checkpoint {
  std::string strategy;  // the strategy's name(), e.g. "dfs"
  std::string config;    // its environment(): the bounds must match
  std::uint64_t shard_index = 0;
  std::uint64_t shard_total = 1;
  std::uint64_t schedules = 0;  // counted by this shard, over every run
  std::string state;            // the strategy's own save()
  // Where fields start in the file (set by decode, for messages).
  std::size_t shard_offset = 0;
  std::size_t state_offset = 0;
};

inline constexpr std::uint32_t kCheckpointVersion = 1;

std::string encode_checkpoint(const Checkpoint& c);
// Throws StateError (sim/state_bytes.h) with the byte offset of the fault.
Checkpoint decode_checkpoint(std::string_view bytes);

// Reads `path`; throws ConfigError "WEFT_CHECKPOINT: <path>: byte N: ...".
// False (and nothing read) if the file does not exist.
bool read_checkpoint(const std::string& path, Checkpoint& out);
void write_checkpoint(const std::string& path, const Checkpoint& c);

class Strategy;
struct ExploreOptions;

// Before a search: takes this shard's share (Strategy::split) and, if
// o.checkpoint_file exists, restores `s` from it and sets
// o.resumed_schedules. Throws ConfigError if `s` cannot be checkpointed or
// the file is not a checkpoint of this search and shard.
void resume_checkpoint(ExploreOptions& o, Strategy& s,
                       std::uint64_t shard_index, std::uint64_t shard_total);
// Saves where `s` stands, with `schedules` counted in all.
void save_checkpoint(const ExploreOptions& o, const Strategy& s,
                     std::uint64_t shard_index, std::uint64_t shard_total,
                     std::uint64_t schedules);

}  // namespace weft::sim
