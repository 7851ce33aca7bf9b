#include "replay/alloc_log.h"

#include <algorithm>
#include <bit>
#include <variant>

namespace weft::replay {

const char* call_name(AllocCall call) {
  switch (call) {
    case AllocCall::kMalloc:
      return "malloc";
    case AllocCall::kFree:
      return "free";
    case AllocCall::kCalloc:
      return "calloc";
    case AllocCall::kRealloc:
      return "realloc";
    case AllocCall::kPosixMemalign:
      return "posix_memalign";
    case AllocCall::kAlignedAlloc:
      return "aligned_alloc";
    case AllocCall::kMemalign:
      return "memalign";
    case AllocCall::kValloc:
      return "valloc";
  }
  return "?";
}

void require_form(const std::string& path, const traces::TraceHeader& header,
                  const std::string& form) {
  if (header.kind != traces::TraceKind::kAllocLog)
    throw traces::TraceError(path, 10,
                             "not an allocator log (trace kind " +
                                 std::to_string(static_cast<int>(header.kind)) +
                                 ")");
  const std::string got = header.get("form");
  if (got != form)
    throw traces::TraceError(
        path, 11,
        "allocator log of form '" + got + "' where '" + form +
            "' was expected" +
            (form == "slots" ? " (run `weft alloc convert` first)" : ""));
}

traces::Generator<AllocRecord> read_calls(std::string path,
                                          traces::ReadSummary* tail) {
  auto reader = traces::TraceReader::open(path);
  require_form(path, reader.header(), "calls");
  for (auto& r : reader.records()) {
    const auto* a = std::get_if<AllocRecord>(&r);
    if (a == nullptr)
      throw traces::TraceError(path, reader.summary().consumed,
                               "a record other than an allocator call in a "
                               "calls log");
    co_yield *a;
  }
  if (tail != nullptr) *tail = reader.summary();
}

void require_whole(const std::string& path, const traces::ReadSummary& s) {
  if (s.lost_bytes != 0)
    throw traces::TraceError(
        path, s.lost_at,
        "cut short: the last " + std::to_string(s.lost_bytes) +
            " bytes are an unfinished frame (was its writer stopped?); a "
            "slots log is whole when convert finishes, so convert again");
}

std::string SlotRules::check(const SlotRecord& op) {
  if (op.slot >= held_.size()) held_.resize(op.slot + std::size_t{1}, false);
  const bool frees = op.call == AllocCall::kFree;
  const bool needs_block =
      frees || (op.call == AllocCall::kRealloc && !op.from_null);
  if (needs_block != held_[op.slot])
    return std::string(call_name(op.call)) +
           (op.call == AllocCall::kRealloc && op.from_null ? " from null"
                                                           : "") +
           " of slot " + std::to_string(op.slot) + ", which " +
           (held_[op.slot] ? "still holds a block" : "holds no block");
  // Requests no call can have granted: the replay would blame the
  // allocator for refusing them.
  if (!frees && op.size > (std::uint64_t{1} << 47))
    return std::string(call_name(op.call)) + " of " + std::to_string(op.size) +
           " bytes: more than a process's address space";
  if (op.call == AllocCall::kPosixMemalign &&
      (!std::has_single_bit(op.align) || op.align < sizeof(void*)))
    return "posix_memalign with alignment " + std::to_string(op.align) +
           ": not a power of two multiple of sizeof(void*), so it cannot "
           "have succeeded";
  held_[op.slot] = !frees;
  return {};
}

SlotLog read_slot_log(const std::string& path) {
  auto reader = traces::TraceReader::open(path);
  require_form(path, reader.header(), "slots");
  SlotLog log;
  SlotRules rules;
  log.metadata = reader.header().metadata;
  for (auto& r : reader.records()) {
    const auto* s = std::get_if<SlotRecord>(&r);
    if (s == nullptr)
      throw traces::TraceError(path, reader.summary().consumed,
                               "a record other than a slot operation in a "
                               "slots log");
    // A converted log uses slots below its length; anything else is
    // damage, and must not make the replayer allocate gigabytes.
    if (s->slot >= log.ops.size() + 1 || s->thread >= kMaxThreads)
      throw traces::TraceError(path, reader.summary().consumed,
                               "slot " + std::to_string(s->slot) +
                                   " or thread " + std::to_string(s->thread) +
                                   " out of range in operation " +
                                   std::to_string(log.ops.size()));
    if (const std::string broken = rules.check(*s); !broken.empty())
      throw traces::TraceError(
          path, reader.summary().consumed,
          "operation " + std::to_string(log.ops.size()) + ": " + broken);
    log.slots = std::max(log.slots, s->slot + 1);
    log.threads = std::max(log.threads, s->thread + 1);
    log.ops.push_back(*s);
  }
  require_whole(path, reader.summary());
  return log;
}

}  // namespace weft::replay
