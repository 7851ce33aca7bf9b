#include "sim/harness/explore_steps.h"

#include <cinttypes>
#include <cstdio>
#include <filesystem>

#include "sim/harness/schedule_trace.h"
#include "sim/harness/shrink.h"

namespace weft::sim::internal {
namespace {

std::string format_time(Nanos t) {
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

std::string write_traces(Scheduler& sched, const ExploreOptions& o,
                         ExploreResult& result,
                         const std::function<void()>& body) {
  namespace fs = std::filesystem;
  std::string lines;
  try {
    fs::create_directories(o.trace_dir);
    const fs::path base =
        fs::absolute(fs::path(o.trace_dir) / (file_name_part(o.name) + "-seed" +
                                              std::to_string(result.seed)));
    traces::TraceHeader h;
    h.kind = traces::TraceKind::kSchedule;
    h.metadata = {{"test", o.name},
                  {"seed", std::to_string(result.seed)},
                  {"strategy", result.strategy},
                  {"command", o.command},
                  {"failure", std::string(to_string(result.failure->kind))}};
    add_build_metadata(h);

    auto one = [&](const std::string& path, const Schedule& s, bool lenient,
                   const char* what) {
      ReplayStrategy strategy(s, lenient);
      const RunResult run =
          record_run(sched, path, h, strategy, result.seed, body);
      lines += std::string("  ") + what + ": " + path + " (" +
               std::to_string(run.schedule.size()) + " choices, " +
               std::to_string(count_preemptions(run.schedule)) +
               " preemptions, " + std::to_string(run.steps) + " steps, " +
               byte_size(fs::file_size(path)) + ")\n";
      if (!run.failed() || run.failure->kind != result.failure->kind)
        lines +=
            "  WARNING: recording that trace did not fail the same way; the "
            "body depends on something outside weft's control\n";
    };
    const std::string path = base.string() + ".weft";
    one(path, result.schedule, false, "trace");
    result.trace_path = path;
    std::string best = path;
    if (result.shrunk) {
      const std::string shrunk = base.string() + ".shrunk.weft";
      one(shrunk, *result.shrunk, true, "shrunk trace");
      result.shrunk_trace_path = shrunk;
      best = shrunk;
    }
    result.trace_replay_command =
        "WEFT_REPLAY=" + shell_quote(best) + " " + o.command;
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

std::string replay_command(const ExploreOptions& o, const ExploreResult& result,
                           bool replaying) {
  if (replaying)
    return o.replay_file.empty()
               ? "(a replay of ExploreOptions::replay: run the same code "
                 "again to replay it)"
               : "WEFT_REPLAY=" + shell_quote(o.replay_file) + " " + o.command;
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
       format_time(f.time);
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
