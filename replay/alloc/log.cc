#include "replay/alloc/log.h"

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
  if (!frees && op.align > (std::uint64_t{1} << 47))
    return std::string(call_name(op.call)) + " with alignment " +
           std::to_string(op.align) +
           ": more than a process's address space, so it cannot have "
           "succeeded";
  if (op.call == AllocCall::kPosixMemalign &&
      (!std::has_single_bit(op.align) || op.align < sizeof(void*)))
    return "posix_memalign with alignment " + std::to_string(op.align) +
           ": not a power of two multiple of sizeof(void*), so it cannot "
           "have succeeded";
  held_[op.slot] = !frees;
  return {};
}

namespace {

// What read_slots checks beyond SlotRules: times and live bytes.
class SlotLimits {
 public:
  std::string check(const SlotRecord& op, std::uint64_t n) {
    if (n == 0) timed_ = op.timed;
    if (op.timed != timed_)
      return std::string("operation ") + (op.timed ? "has" : "has no") +
             " time where the first " + (timed_ ? "had" : "had none") +
             ": a log's operations are all timed or none";
    if (op.timed) {
      if (op.time_ns > kMaxTimeNs)
        return "time " + std::to_string(op.time_ns) +
               " ns overflows (at most 2^62 ns, 146 years, since the "
               "recording started)";
      if (op.thread >= last_.size()) last_.resize(op.thread + 1, 0);
      if (op.time_ns < last_[op.thread])
        return "thread " + std::to_string(op.thread) +
               "'s time goes back from " + std::to_string(last_[op.thread]) +
               " ns to " + std::to_string(op.time_ns) + " ns";
      last_[op.thread] = op.time_ns;
    }
    if (op.slot >= held_.size()) held_.resize(op.slot + std::size_t{1}, 0);
    const bool keeps_old = op.call == AllocCall::kFree ||
                           (op.call == AllocCall::kRealloc && !op.from_null);
    live_ -= keeps_old ? held_[op.slot] : 0;
    held_[op.slot] = op.call == AllocCall::kFree ? 0 : op.size;
    live_ += held_[op.slot];
    if (live_ > kMaxLiveBytes)
      return std::to_string(live_) +
             " requested bytes live at once: more than a process's address "
             "space (2^47 bytes), so the log is too large to replay";
    return {};
  }

 private:
  bool timed_ = false;
  std::vector<std::uint64_t> last_;  // per thread
  std::vector<std::uint64_t> held_;  // per slot
  std::uint64_t live_ = 0;
};

}  // namespace

traces::Generator<SlotRecord> read_slots(std::string path,
                                         SlotLogShape* shape) {
  // Strict: a slots log is whole when convert finishes, so any loss (a
  // damaged or missing frame, a cut, no end marker) is refused at its
  // offset rather than replayed as a different program.
  auto reader = traces::TraceReader::open(path, /*strict=*/true);
  require_form(path, reader.header(), "slots");
  shape->metadata = reader.header().metadata;
  SlotRules rules;
  SlotLimits limits;
  std::uint64_t n = 0;
  for (auto& r : reader.records()) {
    const auto* s = std::get_if<SlotRecord>(&r);
    if (s == nullptr)
      throw traces::TraceError(path, reader.summary().consumed,
                               "a record other than a slot operation in a "
                               "slots log");
    // A converted log uses slots below its length; anything else is
    // damage, and must not make the replayer allocate gigabytes.
    if (s->slot >= n + 1 || s->thread >= kMaxThreads)
      throw traces::TraceError(path, reader.summary().consumed,
                               "slot " + std::to_string(s->slot) +
                                   " or thread " + std::to_string(s->thread) +
                                   " out of range in operation " +
                                   std::to_string(n));
    // The unchecked replay trusts the log (a free leaves its slot stale):
    // a log that frees a block twice stops here, not in the allocator.
    if (const std::string broken = rules.check(*s); !broken.empty())
      throw traces::TraceError(
          path, reader.summary().consumed,
          "operation " + std::to_string(n) + ": " + broken);
    if (const std::string broken = limits.check(*s, n); !broken.empty())
      throw traces::TraceError(
          path, reader.summary().consumed,
          "operation " + std::to_string(n) + ": " + broken);
    shape->offset = reader.summary().consumed;
    shape->slots = std::max(shape->slots, s->slot + 1);
    shape->threads = std::max(shape->threads, s->thread + 1);
    ++n;
    co_yield *s;
  }
  const traces::ReadSummary& tail = reader.summary();
  if (tail.lost_bytes != 0)
    throw traces::TraceError(
        path, tail.lost_at,
        "cut short: the last " + std::to_string(tail.lost_bytes) +
            " bytes are an unfinished frame (was its writer stopped?); a "
            "slots log is whole when convert finishes, so convert again");
}

SlotLog read_slot_log(const std::string& path) {
  SlotLog log;
  for (const SlotRecord& op : read_slots(path, &log)) log.ops.push_back(op);
  return log;
}

}  // namespace weft::replay
