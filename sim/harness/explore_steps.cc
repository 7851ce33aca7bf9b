#include "sim/harness/explore_steps.h"

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

#include "sim/harness/schedule_trace.h"
#include "sim/harness/shrink.h"
#include "traces/self_exe.h"

namespace weft::sim::internal {
namespace {

std::string seconds_text(Nanos t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9gs", static_cast<double>(t.count()) / 1e9);
  return buf;
}

std::string file_name_part(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
            c == '-' || c == '_')
               ? c
               : '_';
  return out.empty() ? "explore" : out;
}

// The current exploration's trace name on this thread (next_trace_name).
thread_local std::string t_trace_name;

std::string byte_size(std::uintmax_t n) {
  char buf[32];
  if (n < 10 * 1024)
    std::snprintf(buf, sizeof buf, "%ju B", n);
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  return buf;
}

// Runs `strategy` once more with a recorder on, writing `path`. The run is
// a replay of a schedule that failed, so it fails the same way.
RunResult record_run(Scheduler& sched, const std::string& path,
                     const traces::TraceHeader& header, Strategy& strategy,
                     std::uint64_t seed, const std::function<void()>& body) {
  ScheduleRecorder recorder(path, header);
  sched.set_observer(&recorder);
  RunResult run;
  try {
    run = sched.run(strategy, seed, body);
  } catch (...) {
    sched.set_observer(nullptr);
    throw;
  }
  sched.set_observer(nullptr);
  recorder.close();
  return run;
}

}  // namespace

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

std::string next_trace_name(const ExploreOptions& o) {
  std::string base = o.name;
  if (base.empty())
    base = std::filesystem::path(traces::self_executable()).filename();
  base = file_name_part(base);
  static std::mutex mu;
  static std::map<std::string, std::uint64_t> uses;  // by name, never by order
  const std::lock_guard lock(mu);
  const std::uint64_t n = ++uses[base];
  t_trace_name = n == 1 ? base : base + "." + std::to_string(n);
  return t_trace_name;
}

std::string trace_base(const ExploreOptions& o, std::uint64_t seed) {
  namespace fs = std::filesystem;
  fs::create_directories(o.trace_dir);
  const std::string name =
      t_trace_name.empty() ? file_name_part(o.name) : t_trace_name;
  return fs::absolute(fs::path(o.trace_dir) /
                      (name + "-seed" + std::to_string(seed)))
      .string();
}

traces::TraceHeader trace_header(const ExploreOptions& o,
                                 const ExploreResult& result) {
  traces::TraceHeader h;
  h.kind = traces::TraceKind::kSchedule;
  h.metadata = {{"test", o.name},
                {"seed", std::to_string(result.seed)},
                {"strategy", result.strategy},
                {"command", o.command},
                {"failure", std::string(to_string(result.failure->kind))}};
  add_build_metadata(h);
  return h;
}

std::string trace_line(const char* what, const std::string& path,
                       const Schedule& schedule, std::uint64_t steps) {
  return std::string("  ") + what + ": " + path + " (" +
         std::to_string(schedule.size()) + " choices, " +
         std::to_string(count_preemptions(schedule)) + " preemptions, " +
         std::to_string(steps) + " steps, " +
         byte_size(std::filesystem::file_size(path)) + ")\n";
}

std::string write_traces(Scheduler& sched, const ExploreOptions& o,
                         ExploreResult& result,
                         const std::function<void()>& body) {
  std::string lines;
  try {
    const std::string base = trace_base(o, result.seed);
    const traces::TraceHeader h = trace_header(o, result);

    auto one = [&](const std::string& path, const Schedule& s, bool lenient,
                   const char* what) {
      ReplayStrategy strategy(s, lenient);
      const RunResult run =
          record_run(sched, path, h, strategy, result.seed, body);
      lines += trace_line(what, path, run.schedule, run.steps);
      if (!run.failed() || run.failure->kind != result.failure->kind)
        lines +=
            "  WARNING: recording that trace did not fail the same way; the "
            "body depends on something outside weft's control\n";
    };
    const std::string path = base + ".weft";
    one(path, result.schedule, false, "trace");
    result.trace_path = path;
    std::string best = path;
    if (result.shrunk) {
      const std::string shrunk = base + ".shrunk.weft";
      one(shrunk, *result.shrunk, true, "shrunk trace");
      result.shrunk_trace_path = shrunk;
      best = shrunk;
    }
    result.trace_replay_command = trace_replay_command(o, best);
  } catch (const std::exception& e) {
    lines +=
        "  (could not write the trace files: " + std::string(e.what()) + ")\n";
  }
  return lines;
}

std::string check_determinism(Scheduler& sched, const Strategy& strategy,
                              const ExploreResult& result,
                              const std::function<void()>& body) {
  // The same seed must give the same schedule: anything else means the
  // body depends on something weft does not control.
  std::unique_ptr<Strategy> again = strategy.replica();
  if (!again) again = std::make_unique<ReplayStrategy>(result.schedule);
  const RunResult second = sched.run(*again, result.seed, body);
  if (digest(second.schedule) == result.digest && second.failed()) return "";
  return "\nWARNING: running this seed again gave a different schedule "
         "(digest " +
         hex(digest(second.schedule)) +
         "). The body depends on something outside weft's control: real "
         "threads, clocks, randomness, addresses or global state left "
         "over from an earlier schedule.";
}

namespace {

std::string name_in(const RunResult& run, StrandId id) {
  return id < run.strand_names.size() ? "'" + run.strand_names[id] + "'"
                                      : "#" + std::to_string(id);
}

std::string describe_choice(const RunResult& run, const Choice& c) {
  std::string s = "strand " + name_in(run, c.strand) + " at step " +
                  std::to_string(c.step) + " was offered " +
                  std::to_string(c.count) + " " +
                  std::string(to_string(c.kind)) + " alternatives and ";
  if (c.is_value) return s + "got value " + std::to_string(c.chosen);
  return s + "ran strand " + name_in(run, c.picked);
}

std::string outcome(const RunResult& run) {
  return run.failed() ? std::string(to_string(run.failure->kind)) : "passed";
}

// Where two runs of one seed part: the first differing choice, or the end
// of the shorter schedule.
std::string first_difference(const RunResult& a, const RunResult& b) {
  const Schedule& x = a.schedule;
  const Schedule& y = b.schedule;
  std::size_t i = 0;
  while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
  const std::string at = "choice " + std::to_string(i) + ": ";
  if (i < x.size() && i < y.size())
    return at + "in the first run " + describe_choice(a, x[i]) +
           "; in the second " + describe_choice(b, y[i]);
  if (i < x.size() || i < y.size())
    return at + "the first run made " + std::to_string(x.size()) +
           " choices, the second " + std::to_string(y.size());
  return "the same choices, but the first run " + outcome(a) +
         " and the second " + outcome(b);
}

}  // namespace

void run_again_and_compare(Scheduler& sched, const Strategy& strategy,
                           std::uint64_t seed, RunResult& run,
                           const std::function<void()>& body) {
  std::unique_ptr<Strategy> again = strategy.replica();
  if (!again) again = std::make_unique<ReplayStrategy>(run.schedule);
  const RunResult second = sched.run(*again, seed, body);
  const std::uint64_t d1 = digest(run.schedule);
  const std::uint64_t d2 = digest(second.schedule);
  const bool same_outcome =
      run.failed() == second.failed() &&
      (!run.failed() || run.failure->kind == second.failure->kind);
  if (d1 == d2 && same_outcome) return;
  Failure f;
  f.kind = FailureKind::kNondeterminism;
  std::size_t i = 0;
  while (i < run.schedule.size() && i < second.schedule.size() &&
         run.schedule[i] == second.schedule[i])
    ++i;
  if (i < run.schedule.size()) {
    f.strand_id = run.schedule[i].strand;
    f.strand = run.strand_names.size() > f.strand_id
                   ? run.strand_names[f.strand_id]
                   : "";
    f.step = run.schedule[i].step;
  }
  f.message = "seed " + std::to_string(seed) +
              " ran twice (WEFT_CHECK_DETERMINISM=all) and gave two "
              "schedules: digest " +
              hex(d1) + " (" + outcome(run) + ") then " + hex(d2) + " (" +
              outcome(second) +
              ").\n  First difference: " + first_difference(run, second) +
              ".\n  The body depends on something outside weft's control: "
              "real threads, clocks, randomness, addresses or global state "
              "left over from an earlier run.";
  run.failure = std::move(f);
}

std::string shrink_failure(ExploreResult& result, const ExploreOptions& o,
                           const std::function<void()>& body) {
  const ShrinkResult s = sim::shrink(result.schedule, *result.failure, body,
                                     o.limits, o.shrink_runs);
  result.shrunk = s.schedule;
  // The shrunk schedule pins only a prefix of choices; past it every
  // choice is the default (keep the current strand running).
  return "  shrunk: " + std::to_string(count_preemptions(s.schedule)) +
         " preemptions and " + std::to_string(s.schedule.size()) +
         " pinned choices (from " +
         std::to_string(count_preemptions(result.schedule)) + " and " +
         std::to_string(result.schedule.size()) + ") in " +
         std::to_string(s.runs) + " runs\n";
}

std::string trace_replay_command(const ExploreOptions& o,
                                 const std::string& path) {
  if (!o.use_environment)
    return "(this exploration ignores WEFT_* variables: set "
           "ExploreOptions::replay_file = \"" +
           path + "\")";
  return "WEFT_REPLAY=" + shell_quote(path) + " " + o.command;
}

std::string replay_command(const ExploreOptions& o, const ExploreResult& result,
                           bool replaying) {
  if (replaying)
    return o.replay_file.empty()
               ? "(a replay of ExploreOptions::replay: run the same code "
                 "again to replay it)"
               : "WEFT_REPLAY=" + shell_quote(o.replay_file) + " " + o.command;
  if (result.environment.empty())
    return "(no seed selects a " + result.strategy +
           " schedule: replay it from its trace file)";
  if (!o.use_environment)
    return "(this exploration ignores WEFT_* variables: set "
           "ExploreOptions::seed = " +
           std::to_string(result.seed) + ", iterations = 1 and " +
           result.environment + ")";
  return "WEFT_SEED=" + std::to_string(result.seed) + " WEFT_ITERATIONS=1 " +
         result.environment + " " + o.command;
}

std::string report(const ExploreResult& result, const ExploreOptions& o,
                   bool replaying, const std::string& determinism,
                   const std::string& notes) {
  const Failure& f = *result.failure;
  std::string r = "weft: " + std::string(to_string(f.kind)) + " after " +
                  std::to_string(result.schedules) + " schedule" +
                  (result.schedules == 1 ? "" : "s") + " (strategy " +
                  result.strategy + ", seed " + std::to_string(result.seed) +
                  ")\n";
  r += "  at step " + std::to_string(f.step) + ", virtual time " +
       seconds_text(f.time);
  if (!f.strand.empty()) r += ", in strand '" + f.strand + "'";
  r += "\n  " + f.message + "\n";
  r += "  schedule: " + std::to_string(result.schedule.size()) + " choices, " +
       std::to_string(count_preemptions(result.schedule)) + " preemptions, " +
       std::to_string(result.steps) + " steps, digest " + hex(result.digest) +
       determinism + "\n" + notes;
  if (!replaying) {
    if (!result.trace_replay_command.empty())
      r += "replay it with:\n  " + result.trace_replay_command +
           "\nor by seed:\n  " + result.replay_command + "\n";
    else
      r += "replay it with:\n  " + result.replay_command + "\n";
  } else if (!o.replay_file.empty()) {
    r += "  replayed from " + o.replay_file + "\n";
  }
  return r;
}

std::string pass_summary(const ExploreResult& result, const ExploreOptions& o) {
  std::string by;
  for (const auto& [name, n] : result.by_strategy)
    by += (by.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::string line = "weft: " + std::to_string(result.schedules) + " schedule" +
                     (result.schedules == 1 ? "" : "s") + " passed (" + by +
                     "; " + std::to_string(result.distinct) +
                     " distinct; at most " +
                     std::to_string(result.max_preemptions) + " preemptions)";
  if (result.exhausted && !result.coverage.empty())
    line += ": " + result.coverage;
  else if (result.exhausted)
    line += o.preemption_bound < 0
                ? ": every schedule, the search is complete"
                : ": every schedule within " +
                      std::to_string(o.preemption_bound) + " preemptions";
  if (result.out_of_time)
    line += "; stopped by WEFT_TIME_BUDGET=" + std::to_string(o.time_budget_s) +
            "s";
  return line;
}

}  // namespace weft::sim::internal

namespace weft::sim {

std::string shell_quote(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("_-./=:,+@%").find(c) != std::string_view::npos))
      plain = false;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace weft::sim
