// Schedule traces: one run of the scheduler written to a trace file (each
// strand's spawn and exit, every pick including forced ones, wake-ups,
// virtual time, the failure), and the schedule read back for replay. The
// file format is traces/'s (docs/trace-format.md); this is the mapping of
// the scheduler's vocabulary onto its records (traces/schedule_records.h),
// checking at compile time that the numbers both sides use agree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/choice.h"
#include "sim/scheduler.h"
#include "traces/format.h"
#include "traces/schedule_records.h"
#include "traces/writer.h"

namespace weft::sim {

// Records the runs of the scheduler it observes into one file. Owns the
// writer; close() (or destruction) lands the last frame.
class ScheduleRecorder final : public RunObserver {
 public:
  ScheduleRecorder(const std::string& path, const traces::TraceHeader& header);
  void close() { writer_.close(); }
  // Choices with two or more alternatives recorded so far: the schedule.
  std::uint64_t choices() const { return choices_; }

  void on_spawn(StrandId id, StrandId parent, const std::string& name,
                std::uint64_t step, Nanos time) override;
  void on_exit(StrandId id, std::uint64_t step, Nanos time) override;
  void on_choice(const Choice& choice, Nanos time) override;
  void on_wake(StrandId waker, StrandId woken, std::uint64_t step,
               Nanos time) override;
  void on_event(EventKind kind, StrandId from, std::uint64_t from_step,
                StrandId to, std::uint64_t step, Nanos time,
                const std::string& detail) override;
  void on_op(StrandId strand, std::uint64_t step, const OpNote& note) override;
  void on_failure(const Failure& failure) override;

 private:
  void advance(std::uint64_t step, Nanos time);
  traces::TraceWriter writer_;
  std::uint64_t time_ns_ = 0;
  std::uint64_t choices_ = 0;
};

traces::ChoiceRecord to_record(const Choice& choice);
// `where` is kept as its last two path components and line
// ("sim/sync.cc:42"): enough to find the line, and the same wherever the
// program was built.
traces::OpRecord to_record(StrandId strand, std::uint64_t step,
                           const OpNote& note);
// nullopt if the record's kind byte is no ChoiceKind.
std::optional<Choice> from_record(const traces::ChoiceRecord& record);

// The names trace printing and the timeline use, one fallback each: a
// choice record's kind byte ("lock"; "kind-N" for a byte no ChoiceKind
// has) and an event record's kind ("wake-up"; "event-N" likewise).
std::string choice_kind_name(std::uint8_t kind);
std::string event_kind_name(traces::EventRecord::Kind kind);
// An op record in words: "load atomic = 5 at dir/file.cc:12".
std::string op_text(const traces::OpRecord& op);

struct ScheduleTrace {
  traces::TraceHeader header;
  Schedule schedule;  // the choices with two or more alternatives
  // False when the file's tail was lost: the schedule is a prefix, to
  // replay with a lenient tail. read_schedule() refuses such files now
  // (traces are written whole), so it is always true.
  bool complete = true;
  // Not empty when the trace was recorded by another build than this
  // program (build_mismatch): a warning to print, not an error, since a
  // rebuild that left the code under test alone replays the same.
  std::string build_warning;
};

// Reads the schedule of a trace file. Throws traces::TraceError (file and
// byte offset) on bad input, a trace that is not a schedule, or any loss:
// a damaged or missing frame, a cut, no end marker (schedule traces are
// written whole, so a lost tail is damage too, and a schedule with a hole
// is another schedule), or no frame at all; `complete` is then always
// true.
ScheduleTrace read_schedule(const std::string& path);

// Why a trace recorded by another build may not replay here ("recorded by
// build ..., and this is build ..."), or "" if the builds are the same or
// either is unknown.
std::string build_mismatch(const traces::TraceHeader& header);

// The metadata every schedule trace carries: weft_version and build_id.
void add_build_metadata(traces::TraceHeader& header);

}  // namespace weft::sim
