#include "sim/harness/flight/recording.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <type_traits>

#include "sim/harness/schedule_trace.h"
#include "traces/reader.h"
#include "traces/writer.h"

namespace weft::sim::flight {
namespace {

// The engine's operations are the file's, number for number.
static_assert(static_cast<int>(Op::kSpawn) ==
                  static_cast<int>(traces::FlightOp::kSpawn) &&
              static_cast<int>(Op::kJoin) ==
                  static_cast<int>(traces::FlightOp::kJoin) &&
              static_cast<int>(Op::kLock) ==
                  static_cast<int>(traces::FlightOp::kLock) &&
              static_cast<int>(Op::kCvWait) ==
                  static_cast<int>(traces::FlightOp::kCvWait) &&
              static_cast<int>(Op::kAcquire) ==
                  static_cast<int>(traces::FlightOp::kAcquire) &&
              static_cast<int>(Op::kRelease) ==
                  static_cast<int>(traces::FlightOp::kRelease) &&
              static_cast<int>(Op::kLatchWait) ==
                  static_cast<int>(traces::FlightOp::kLatchWait) &&
              static_cast<int>(Op::kAtomicRead) ==
                  static_cast<int>(traces::FlightOp::kAtomicRead) &&
              static_cast<int>(Op::kAtomicWrite) ==
                  static_cast<int>(traces::FlightOp::kAtomicWrite) &&
              static_cast<int>(Op::kClock) ==
                  static_cast<int>(traces::FlightOp::kClock) &&
              static_cast<int>(Op::kTryFail) ==
                  static_cast<int>(traces::FlightOp::kTryFail) &&
              static_cast<int>(Op::kTimerArm) ==
                  static_cast<int>(traces::FlightOp::kTimerArm) &&
              static_cast<int>(Op::kTimerFire) ==
                  static_cast<int>(traces::FlightOp::kTimerFire) &&
              static_cast<int>(Op::kTimerCancel) ==
                  static_cast<int>(traces::FlightOp::kTimerCancel) &&
              traces::kMaxFlightOp == static_cast<int>(Op::kTimerCancel));

// An atomic operation's run is coded alike by the recorder and the format.
constexpr traces::FlightRun kRun =
    traces::flight_run({traces::FlightOp::kAtomicWrite, 0, 0, 0,
                        encode_run({.trailing = 5, .reads = 7, .writes = 9})});
static_assert(kRun.trailing == 5 && kRun.reads == 7 && kRun.writes == 9 &&
              decode_run(encode_run({kRunReadsMax, kRunReadsMax,
                                     kRunWritesMax}))
                      .writes == kRunWritesMax);

std::string header_losses(const traces::TraceHeader& h) {
  std::string out;
  if (h.get("dropped") != "" && h.get("dropped") != "0")
    out += h.get("dropped") +
           " operations fell out of the rings (threads replayed unchecked: " +
           h.get("wrapped_threads") + ")";
  if (h.get("refused") != "" && h.get("refused") != "0")
    out += std::string(out.empty() ? "" : "; ") + h.get("refused") +
           " operations found their ring full";
  if (h.get("lost_threads") != "" && h.get("lost_threads") != "0")
    out += std::string(out.empty() ? "" : "; ") + h.get("lost_threads") +
           " threads found no ring";
  return out;
}

}  // namespace

std::uint64_t write_recording(Arena& arena, const std::string& path,
                              const std::string& reason,
                              const std::string& command) {
  traces::TraceHeader header;
  header.kind = traces::TraceKind::kFlight;
  add_build_metadata(header);
  header.metadata.emplace_back("command", command);
  header.metadata.emplace_back("reason", reason);
  const std::uint32_t used =
      std::min(arena.slots_used.load(std::memory_order_acquire), arena.slots);
  std::uint64_t dropped = 0, refused = 0;
  std::string wrapped;
  for (std::uint32_t i = 0; i < used; ++i) {
    const Slot* s = arena.slot(i);
    const std::uint64_t head = s->head.load(std::memory_order_acquire);
    refused += s->full.load(std::memory_order_relaxed);
    if (head > arena.capacity) {
      dropped += head - arena.capacity;
      wrapped += (wrapped.empty() ? "" : " ") +
                 std::to_string(s->thread.load()) + ":" +
                 std::to_string(head - arena.capacity);
    }
  }
  header.metadata.emplace_back("dropped", std::to_string(dropped));
  header.metadata.emplace_back("wrapped_threads", wrapped);
  header.metadata.emplace_back("refused", std::to_string(refused));
  header.metadata.emplace_back("lost_threads",
                               std::to_string(arena.lost_threads.load()));
  traces::TraceWriter writer(path, header);
  std::uint64_t written = 0;
  for (std::uint32_t i = 0; i < used; ++i) {
    const Slot* s = arena.slot(i);
    const std::uint64_t head = s->head.load(std::memory_order_acquire);
    const std::uint64_t first =
        head > arena.capacity ? head - arena.capacity : 0;
    const Event* ev = arena.events(i);
    for (std::uint64_t k = first; k < head; ++k) {
      const Event& e = ev[k % arena.capacity];
      // A thread may still count reads into its newest event (coalesce()).
      const std::uint64_t value =
          std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(e.value))
              .load(std::memory_order_relaxed);
      writer.append(traces::FlightRecord{static_cast<traces::FlightOp>(e.op),
                                         e.thread, e.object, e.version, value});
      ++written;
    }
  }
  writer.close();
  return written;
}

Recording read_recording(const std::string& path) {
  Recording out;
  out.path = path;
  auto reader = traces::TraceReader::open(path);
  out.header = reader.header();
  if (out.header.kind != traces::TraceKind::kFlight)
    throw traces::TraceError(
        path, sizeof traces::kMagic + 2,
        "not a flight recording (trace kind " +
            std::to_string(static_cast<int>(out.header.kind)) + ")");
  std::map<std::uint32_t, std::uint64_t> wrapped;
  try {
    const std::string w = out.header.get("wrapped_threads");
    std::size_t at = 0;
    while (at < w.size()) {
      const std::size_t colon = w.find(':', at);
      const std::size_t end = std::min(w.find(' ', at), w.size());
      if (colon == std::string::npos || colon > end) break;
      wrapped[static_cast<std::uint32_t>(
          std::stoul(w.substr(at, colon - at)))] =
          std::stoull(w.substr(colon + 1, end - colon - 1));
      at = end + 1;
    }
  } catch (const std::exception&) {
    throw traces::TraceError(path, sizeof traces::kMagic + 2,
                             "the header's wrapped_threads is malformed");
  }
  out.clock_base = std::numeric_limits<std::uint64_t>::max();
  for (const traces::Record& r : reader.records()) {
    // A hole would shift a thread's operations: keep what came before the
    // first loss only.
    if (reader.summary().lossy() && !reader.summary().damage.empty()) break;
    const auto* f = std::get_if<traces::FlightRecord>(&r);
    if (f == nullptr)
      throw traces::TraceError(path, reader.summary().consumed,
                               "a flight recording holds a record of "
                               "another kind (tag " +
                                   std::to_string(r.index()) + ")");
    ThreadOps& t = out.threads[f->thread];
    t.ops.push_back(*f);
    ++out.operations;
    // An atomic operation's value counts the operations coalesced into it.
    out.operations += traces::flight_run_operations(*f);
    if (f->op == traces::FlightOp::kClock ||
        f->op == traces::FlightOp::kTimerArm)
      out.clock_base = std::min(out.clock_base, f->value);
  }
  if (out.clock_base == std::numeric_limits<std::uint64_t>::max())
    out.clock_base = 0;
  for (auto& [thread, n] : wrapped) out.threads[thread].dropped = n;
  const traces::ReadSummary& sum = reader.summary();
  if (sum.frames == 0) {
    const auto lines = traces::describe_losses(path, sum);
    const std::string first =
        lines.empty() ? "" : ": " + lines.front().substr(path.size() + 2);
    throw traces::TraceError(
        path,
        sum.damage.empty() ? (sum.lost_bytes ? sum.lost_at : sum.consumed)
                           : sum.damage.front().offset,
        "no operations: the recording holds no whole frame" +
            first.substr(0, first.find(" at byte ")));
  }
  std::string losses;
  for (const std::string& line : traces::describe_losses(path, sum))
    losses += (losses.empty() ? "" : "\n") + line;
  const std::string mine = header_losses(out.header);
  if (!mine.empty())
    losses += (losses.empty() ? "" : "\n") + path + ": " + mine;
  out.losses = losses;
  return out;
}

std::string refuse_reason(const Recording& recording) {
  return build_mismatch(recording.header);
}

}  // namespace weft::sim::flight
