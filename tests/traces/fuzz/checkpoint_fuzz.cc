// libFuzzer target for WEFT_CHECKPOINT files: any bytes go through
// decode_checkpoint and, if they decode, into DfsStrategy::restore; they
// end in a checkpoint or a StateError with an offset, never a crash, a
// hang or an unbounded allocation. A state that restores saves back to the
// same bytes. Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, so the
// checksum does not stop mutations at the door.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/dfs_strategy.h"
#include "sim/harness/checkpoint.h"
#include "sim/state_bytes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const weft::sim::Checkpoint c = weft::sim::decode_checkpoint(bytes);
    weft::sim::DfsStrategy s(2);
    s.split(c.shard_index, c.shard_total);
    s.restore(c.state, c.state_offset);
    if (s.save() != c.state) std::abort();  // restore lost something
  } catch (const weft::sim::StateError&) {
    // Bad input, reported with its offset: the expected outcome.
  }
  return 0;
}
