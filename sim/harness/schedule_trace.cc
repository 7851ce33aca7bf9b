#include "sim/harness/schedule_trace.h"

#include <elf.h>
#include <link.h>

#include <cstdio>
#include <cstring>

#include "traces/reader.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

namespace weft::sim {
namespace {

// The numbers sim and the trace format share. Each conversion is a switch
// over every enumerator (a kind added to sim without a record kind does
// not compile), and the static_asserts check that both sides number each
// kind alike, so a record's byte means the same kind in both directions.

template <class A, class B>
constexpr bool same_number(A a, B b) {
  return static_cast<int>(a) == static_cast<int>(b);
}

constexpr traces::ChoiceRecordKind to_record_kind(ChoiceKind k) {
  using R = traces::ChoiceRecordKind;
  switch (k) {
    case ChoiceKind::kSpawn:
      return R::kSpawn;
    case ChoiceKind::kYield:
      return R::kYield;
    case ChoiceKind::kLock:
      return R::kLock;
    case ChoiceKind::kUnlock:
      return R::kUnlock;
    case ChoiceKind::kWait:
      return R::kWait;
    case ChoiceKind::kNotify:
      return R::kNotify;
    case ChoiceKind::kTimer:
      return R::kTimer;
    case ChoiceKind::kMessage:
      return R::kMessage;
    case ChoiceKind::kFault:
      return R::kFault;
    case ChoiceKind::kAtomic:
      return R::kAtomic;
    case ChoiceKind::kJoin:
      return R::kJoin;
    case ChoiceKind::kExit:
      return R::kExit;
    case ChoiceKind::kSleep:
      return R::kSleep;
    case ChoiceKind::kWork:
      return R::kWork;
    case ChoiceKind::kRelease:
      return R::kRelease;
    case ChoiceKind::kAcquire:
      return R::kAcquire;
    case ChoiceKind::kChoose:
      return R::kChoose;
  }
  return static_cast<R>(kChoiceKindCount);  // not a ChoiceKind: caught below
}

constexpr bool choice_kinds_agree() {
  for (int i = 0; i < kChoiceKindCount; ++i)
    if (!same_number(to_record_kind(static_cast<ChoiceKind>(i)), i))
      return false;
  return true;
}
static_assert(kChoiceKindCount == traces::kChoiceRecordKindCount,
              "sim::ChoiceKind and traces::ChoiceRecordKind list different "
              "kinds: add the new kind to both, with the same number, and to "
              "docs/trace-format.md");
static_assert(choice_kinds_agree(),
              "sim::ChoiceKind and traces::ChoiceRecordKind number a kind "
              "differently");

constexpr traces::EventRecord::Kind to_record_kind(EventKind k) {
  using R = traces::EventRecord::Kind;
  switch (k) {
    case EventKind::kWorkItem:
      return R::kWorkItem;
    case EventKind::kMessage:
      return R::kMessage;
    case EventKind::kIoReady:
      return R::kIoReady;
    case EventKind::kFault:
      return R::kFault;
  }
  return R::kWorkItem;  // not an EventKind
}
static_assert(
    same_number(EventKind::kWorkItem, to_record_kind(EventKind::kWorkItem)) &&
        same_number(EventKind::kMessage, to_record_kind(EventKind::kMessage)) &&
        same_number(EventKind::kIoReady, to_record_kind(EventKind::kIoReady)) &&
        same_number(EventKind::kFault, to_record_kind(EventKind::kFault)),
    "sim::EventKind and traces::EventRecord::Kind number a kind "
    "differently");

constexpr traces::FailureRecordKind to_record_kind(FailureKind k) {
  using R = traces::FailureRecordKind;
  switch (k) {
    case FailureKind::kAssertion:
      return R::kAssertion;
    case FailureKind::kException:
      return R::kException;
    case FailureKind::kDeadlock:
      return R::kDeadlock;
    case FailureKind::kStepLimit:
      return R::kStepLimit;
    case FailureKind::kTimeLimit:
      return R::kTimeLimit;
    case FailureKind::kLeak:
      return R::kLeak;
    case FailureKind::kReplayDivergence:
      return R::kReplayDivergence;
    case FailureKind::kCrash:
      return R::kCrash;
    case FailureKind::kExit:
      return R::kExit;
    case FailureKind::kStackOverflow:
      return R::kStackOverflow;
    case FailureKind::kHang:
      return R::kHang;
    case FailureKind::kNondeterminism:
      return R::kNondeterminism;
    case FailureKind::kDataRace:
      return R::kDataRace;
  }
  return static_cast<R>(traces::kFailureRecordKindCount);  // not a FailureKind
}

constexpr bool failure_kinds_agree() {
  for (int i = 0; i < traces::kFailureRecordKindCount; ++i)
    if (!same_number(to_record_kind(static_cast<FailureKind>(i)), i))
      return false;
  return true;
}
static_assert(failure_kinds_agree(),
              "sim::FailureKind and traces::FailureRecordKind number a kind "
              "differently, or one lists a kind the other lacks");

}  // namespace

traces::ChoiceRecord to_record(const Choice& c) {
  traces::ChoiceRecord r;
  r.kind = static_cast<std::uint8_t>(to_record_kind(c.kind));
  r.is_value = c.is_value;
  r.strand = c.strand;
  r.count = c.count;
  r.chosen = c.chosen;
  r.picked = c.picked;
  r.preemption = c.preemption;
  r.step = c.step;
  return r;
}

traces::OpRecord to_record(StrandId strand, std::uint64_t step,
                           const OpNote& note) {
  traces::OpRecord r;
  r.kind = static_cast<std::uint8_t>(to_record_kind(note.kind));
  r.has_value = note.has_value;
  r.is_signed = note.is_signed;
  r.blocks = note.blocks;
  r.strand = strand;
  r.step = step;
  r.value = note.value;
  r.what = note.what;
  if (note.where.line != 0) {
    const std::string_view file = note.where.file;
    std::size_t cut = file.rfind('/');
    if (cut != std::string_view::npos && cut > 0)
      cut = file.rfind('/', cut - 1);
    r.where = std::string(
                  cut == std::string_view::npos ? file : file.substr(cut + 1)) +
              ":" + std::to_string(note.where.line);
  }
  return r;
}

std::optional<Choice> from_record(const traces::ChoiceRecord& r) {
  // The numbers agree (checked above), so a byte below the count is the
  // ChoiceKind of the same number.
  if (r.kind >= kChoiceKindCount) return std::nullopt;
  return Choice{static_cast<ChoiceKind>(r.kind),
                r.is_value,
                r.strand,
                r.count,
                r.chosen,
                r.picked,
                r.preemption,
                r.step};
}

std::string choice_kind_name(std::uint8_t kind) {
  if (kind < kChoiceKindCount)
    return std::string(to_string(static_cast<ChoiceKind>(kind)));
  return "kind-" + std::to_string(kind);
}

std::string event_kind_name(traces::EventRecord::Kind kind) {
  using K = traces::EventRecord::Kind;
  switch (kind) {
    case K::kWorkItem:
      return "work item";
    case K::kMessage:
      return "message";
    case K::kTimer:
      return "timer";
    case K::kIoReady:
      return "I/O ready";
    case K::kFault:
      return "fault";
    case K::kWakeup:
      return "wake-up";
  }
  return "event-" + std::to_string(static_cast<int>(kind));
}

std::string op_text(const traces::OpRecord& op) {
  std::string s = op.what;
  if (op.has_value)
    s += " = " + (op.is_signed
                      ? std::to_string(static_cast<std::int64_t>(op.value))
                      : std::to_string(op.value));
  if (!op.where.empty()) s += " at " + op.where;
  return s;
}

ScheduleRecorder::ScheduleRecorder(const std::string& path,
                                   const traces::TraceHeader& header)
    : writer_(path, header) {}

void ScheduleRecorder::advance(std::uint64_t step, Nanos time) {
  const auto t = static_cast<std::uint64_t>(time.count());
  if (t == time_ns_) return;
  time_ns_ = t;
  writer_.append(traces::TimeRecord{step, t});
}

void ScheduleRecorder::on_spawn(StrandId id, StrandId parent,
                                const std::string& name, std::uint64_t step,
                                Nanos time) {
  advance(step, time);
  traces::StrandRecord r;
  r.event = traces::StrandRecord::Event::kSpawn;
  r.strand = id;
  r.parent = parent;
  r.step = step;
  r.time_ns = time_ns_;
  r.name = name;
  writer_.append(r);
}

void ScheduleRecorder::on_exit(StrandId id, std::uint64_t step, Nanos time) {
  advance(step, time);
  traces::StrandRecord r;
  r.event = traces::StrandRecord::Event::kExit;
  r.strand = id;
  r.parent = kNoStrand;
  r.step = step;
  r.time_ns = time_ns_;
  writer_.append(r);
}

void ScheduleRecorder::on_choice(const Choice& choice, Nanos time) {
  advance(choice.step, time);
  if (choice.count >= 2) ++choices_;
  writer_.append(to_record(choice));
}

void ScheduleRecorder::on_wake(StrandId waker, StrandId woken,
                               std::uint64_t step, Nanos time) {
  advance(step, time);
  traces::EventRecord r;
  r.kind = waker == kNoStrand ? traces::EventRecord::Kind::kTimer
                              : traces::EventRecord::Kind::kWakeup;
  r.strand = waker;
  r.peer = woken;
  r.step = step;
  r.time_ns = time_ns_;
  writer_.append(r);
}

// A message or work item: `strand` caused it (at step `value`), `peer`
// saw it at `step`.
void ScheduleRecorder::on_event(EventKind kind, StrandId from,
                                std::uint64_t from_step, StrandId to,
                                std::uint64_t step, Nanos time,
                                const std::string& detail) {
  advance(step, time);
  traces::EventRecord r;
  r.kind = to_record_kind(kind);
  r.strand = from;
  r.peer = to;
  r.step = step;
  r.time_ns = time_ns_;
  r.value = from_step;
  r.detail = detail;
  writer_.append(r);
}

void ScheduleRecorder::on_op(StrandId strand, std::uint64_t step,
                             const OpNote& note) {
  writer_.append(to_record(strand, step, note));
}

void ScheduleRecorder::on_failure(const Failure& f) {
  traces::FailureRecord r;
  r.kind = static_cast<std::uint8_t>(to_record_kind(f.kind));
  r.strand = f.strand_id;
  r.step = f.step;
  r.time_ns = static_cast<std::uint64_t>(f.time.count());
  r.message = f.message;
  writer_.append(r);
}

ScheduleTrace read_schedule(const std::string& path) {
  auto reader = traces::TraceReader::open(path);
  ScheduleTrace out;
  out.header = reader.header();
  if (out.header.kind != traces::TraceKind::kSchedule)
    throw traces::TraceError(
        path, 10,
        "not a schedule trace (kind " +
            std::to_string(static_cast<int>(out.header.kind)) +
            "): only schedules replay");
  std::uint64_t index = 0;
  for (const traces::Record& r : reader.records()) {
    ++index;
    const auto* c = std::get_if<traces::ChoiceRecord>(&r);
    if (c == nullptr || c->count < 2) continue;
    const std::optional<Choice> choice = from_record(*c);
    if (!choice || c->chosen >= c->count)
      throw traces::TraceError(path, reader.summary().consumed,
                               "record " + std::to_string(index) +
                                   " is not a valid choice (kind " +
                                   std::to_string(c->kind) + ", chosen " +
                                   std::to_string(c->chosen) + " of " +
                                   std::to_string(c->count) + ")");
    out.schedule.push_back(*choice);
  }
  const traces::ReadSummary& sum = reader.summary();
  // A schedule trace is written whole (renamed into place when complete),
  // so any loss is damage, and a schedule with a hole or a lost tail is
  // another schedule: refuse it, at the first loss.
  if (sum.lossy()) {
    const auto lines = traces::describe_losses(path, sum);
    const std::string first = lines.front().substr(path.size() + 2);
    throw traces::TraceError(path,
                             sum.damage.empty()
                                 ? (sum.lost_bytes ? sum.lost_at : sum.consumed)
                                 : sum.damage.front().offset,
                             "a damaged schedule does not replay: " +
                                 first.substr(0, first.find(" at byte ")));
  }
  if (sum.frames == 0)
    throw traces::TraceError(path, sum.consumed,
                             "no schedule: the trace holds no frame");
  out.complete = true;
  out.build_warning = build_mismatch(out.header);
  return out;
}

namespace {

// The GNU build id of the main program (its NT_GNU_BUILD_ID note), in hex:
// it names the exact build a trace came from, since a schedule replays only
// on the build that recorded it.
int find_build_id(dl_phdr_info* info, std::size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) note;
      std::memcpy(&note, p, sizeof note);
      const char* name = p + sizeof note;
      const char* desc = name + ((note.n_namesz + 3) & ~3u);
      if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
          std::memcmp(name, "GNU", 4) == 0) {
        for (unsigned j = 0; j < note.n_descsz; ++j) {
          char hex[3];
          std::snprintf(hex, sizeof hex, "%02x",
                        static_cast<unsigned char>(desc[j]));
          *out += hex;
        }
        return 1;
      }
      p = desc + ((note.n_descsz + 3) & ~3u);
    }
  }
  return 1;  // only the main program (listed first) counts
}

}  // namespace

namespace {

std::string this_build_id() {
  std::string id;
  dl_iterate_phdr(find_build_id, &id);
  return id.empty() ? "unknown" : id;
}

}  // namespace

std::string build_mismatch(const traces::TraceHeader& header) {
  const std::string recorded = header.get("build_id");
  const std::string here = this_build_id();
  if (recorded.empty() || recorded == "unknown" || here == "unknown" ||
      recorded == here)
    return "";
  return "recorded by build " + recorded + " (weft " +
         header.get("weft_version") + "), and this is build " + here +
         ": the schedule replays only if the code under test is the same; a "
         "change shows as a replay divergence";
}

void add_build_metadata(traces::TraceHeader& header) {
  header.metadata.emplace_back("weft_version", WEFT_VERSION);
  header.metadata.emplace_back("build_id", this_build_id());
}

}  // namespace weft::sim
