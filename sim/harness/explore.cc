#include "sim/harness/explore.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <unordered_set>

#include "sim/harness/checkpoint.h"
#include "sim/harness/contain.h"
#include "sim/harness/explore_steps.h"
#include "sim/harness/jobs.h"
#include "sim/harness/preemption_budget.h"
#include "sim/harness/report_schedule.h"
#include "sim/harness/schedule_trace.h"
#include "sim/harness/strategy_registry.h"
#include "traces/self_exe.h"

namespace weft::sim {
namespace {

std::uint64_t g_shard_index = 0;
std::uint64_t g_shard_total = 1;

// Reads WEFT_REPLAY's file into options.replay. A file that came from the
// environment and names another test than this exploration's is not for
// it (the variable reaches every test of the binary): returns false, and
// this exploration runs as if it were unset.
bool load_replay_file(ExploreOptions& o, bool from_environment) {
  try {
    ScheduleTrace t = read_schedule(o.replay_file);
    const std::string test = t.header.get("test");
    if (from_environment && !o.name.empty() && !test.empty() &&
        test != o.name) {
      if (o.print)
        std::fprintf(stderr,
                     "weft: WEFT_REPLAY=%s is a trace of test '%s', not of "
                     "'%s': this exploration ignores it\n",
                     o.replay_file.c_str(), test.c_str(), o.name.c_str());
      o.replay_file.clear();
      return false;
    }
    o.replay = std::move(t.schedule);
    o.replay_lenient = !t.complete;
    if (!t.complete && o.print)
      std::fprintf(stderr,
                   "weft: %s lost its tail; replaying the %zu choices "
                   "that survive, then running on\n",
                   o.replay_file.c_str(), o.replay->size());
    if (!t.build_warning.empty() && o.print)
      std::fprintf(stderr, "weft: WEFT_REPLAY: warning: %s was %s\n",
                   o.replay_file.c_str(), t.build_warning.c_str());
  } catch (const std::exception& e) {
    throw ConfigError("WEFT_REPLAY: " + std::string(e.what()));
  }
  return true;
}

// Checks and completes the options; returns the source of schedules.
std::unique_ptr<Strategy> configure(ExploreOptions& o) {
  const std::string coded_replay = o.replay_file;
  if (o.use_environment) apply_environment(o);
  if (o.command.empty()) o.command = this_program("<your test binary>");
  if (!o.replay_file.empty())
    load_replay_file(o, o.replay_file != coded_replay);
  if (o.replay)
    return std::make_unique<ReplayStrategy>(*o.replay, o.replay_lenient);
  const StrategyEntry* entry = find_strategy(o.strategy);
  if (entry == nullptr)
    throw ConfigError("strategy '" + o.strategy + "' is not one of " +
                      strategy_names());
  if (o.max_preemptions >= 0 &&
      (o.preemption_bound < 0 || o.preemption_bound > o.max_preemptions))
    o.preemption_bound = o.max_preemptions;
  auto strategy = with_preemption_budget(entry->make(o), o.max_preemptions);
  return strategy;
}

// The failure pipeline: determinism check, shrinking, trace files, report.
void report_failure(Scheduler& sched, Strategy& strategy,
                    const ExploreOptions& o, bool replaying,
                    ExploreResult& result, const std::function<void()>& body) {
  // A nondeterminism failure is about two runs: neither a re-run nor
  // shrinking (which looks for one run failing alike) applies to it.
  const bool single_run = result.failure->kind != FailureKind::kNondeterminism;
  // Every run of a hung schedule waits out the watchdog in real time: the
  // re-run and shrinking's tens of runs would leave the user waiting for
  // minutes with nothing printed. Its trace is still written.
  const bool hung = result.failure->kind == FailureKind::kHang;
  std::string determinism;
  if (o.check_determinism && !replaying && single_run && !hung)
    determinism = internal::check_determinism(sched, strategy, result, body);
  std::string notes;
  if (o.shrink && !replaying && single_run && hung)
    notes += "  not shrunk: every run of a hung schedule waits " +
             std::to_string(o.watchdog_s) + " s of real time (WEFT_WATCHDOG)\n";
  else if (o.shrink && !replaying && single_run)
    notes += internal::shrink_failure(result, o, body);
  if (!replaying && !o.trace_dir.empty())
    notes += internal::write_traces(sched, o, result, body);
  result.replay_command = internal::replay_command(o, result, replaying);
  result.report = internal::report(result, o, replaying, determinism, notes);
  if (o.print && o.print_failure) std::fputs(result.report.c_str(), stderr);
}

// What the schedules run so far covered, for the pass summary.
class Coverage {
 public:
  void add(ExploreResult& r, const std::string& strategy,
           const Schedule& schedule) {
    ++r.by_strategy[strategy];
    if (seen_.insert(digest(schedule)).second) ++r.distinct;
    r.max_preemptions =
        std::max(r.max_preemptions, count_preemptions(schedule));
  }

 private:
  std::unordered_set<std::uint64_t> seen_;  // only counted, never iterated
};

// The time budget is read every 64 schedules: a clock read costs about as
// much as a short schedule.
bool out_of_time(const ExploreOptions& o,
                 std::chrono::steady_clock::time_point start,
                 std::uint64_t done) {
  if (o.time_budget_s == 0 || done % 64 != 0 || done == 0) return false;
  return std::chrono::steady_clock::now() - start >=
         std::chrono::seconds(o.time_budget_s);
}

}  // namespace

std::string this_program(const std::string& fallback) {
  const std::string self = traces::self_executable();
  if (self.empty()) return fallback;
  return internal::shell_quote(self);
}

void set_shard(std::uint64_t index, std::uint64_t total) {
  g_shard_total = total == 0 ? 1 : total;
  g_shard_index = index < g_shard_total ? index : 0;
}

namespace {

// In a WEFT_JOBS job: the schedule's key in the unsharded order, and
// whether every schedule left to this job comes after another job's
// failure.
bool job_past_a_failure(const Strategy& strategy, bool self_split,
                        std::uint64_t i, const RunResult& run,
                        std::vector<std::uint32_t>& key) {
  key = self_split ? strategy.order_key(run.schedule)
                   : internal::iteration_key(i);
  return !run.failed() && internal::job_should_stop(key);
}

// Fills the result with the failing schedule `run` (seed, strategy, key);
// a job publishes its key.
void take_failure(ExploreResult& result, RunResult& run, std::uint64_t seed,
                  const Strategy& strategy, std::vector<std::uint32_t> key) {
  result.failure = run.failure;
  result.order_key = std::move(key);
  if (internal::in_job()) internal::job_found_failure(result.order_key);
  result.seed = seed;
  result.strategy = strategy.name();
  result.environment = strategy.environment();
  result.schedule = std::move(run.schedule);
  result.digest = digest(result.schedule);
  result.steps = run.steps;
}

// Runs the schedules of one exploration in this process, then the failure
// pipeline of the first that fails: the loop a contained child runs.
ExploreResult run_schedules(ExploreOptions& o, Strategy& strategy,
                            const std::function<void()>& body) {
  const bool replaying = o.replay.has_value();
  // Which slice of the iterations this shard runs. A replay runs one
  // schedule in every shard; an exhaustive search splits its own tree.
  std::uint64_t first = 0;
  std::uint64_t last = replaying ? 1 : o.iterations;
  const bool self_split = !replaying && g_shard_total > 1 &&
                          strategy.split(g_shard_index, g_shard_total);
  if (!replaying && !self_split && g_shard_total > 1 &&
      o.iterations >= g_shard_total) {
    first = o.iterations * g_shard_index / g_shard_total;
    last = o.iterations * (g_shard_index + 1) / g_shard_total;
  }
  const bool progress =
      o.print && isatty(STDERR_FILENO) && last - first >= 2000;

  const bool checkpointing = !replaying && !o.checkpoint_file.empty();
  ExploreResult result;
  Scheduler sched(o.limits);
  Coverage coverage;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = first; i < last && !strategy.finished(); ++i) {
    if (out_of_time(o, start, result.schedules)) {
      result.out_of_time = true;
      break;
    }
    const std::uint64_t seed = o.seed + i;
    RunResult run = sched.run(strategy, seed, body);
    const bool counted = strategy.counts_last();
    std::vector<std::uint32_t> key;  // a job's place in the unsharded order
    if (internal::in_job() &&
        job_past_a_failure(strategy, self_split, i, run, key)) {
      if (counted) ++result.schedules;
      break;
    }
    if (counted) ++result.schedules;
    if (o.check_every_schedule && !replaying)
      internal::run_again_and_compare(sched, strategy, seed, run, body);
    if (counted) coverage.add(result, strategy.name(), run.schedule);
    if (checkpointing && counted && result.schedules % 10'000 == 0)
      save_checkpoint(o, strategy, g_shard_index, g_shard_total,
                      o.resumed_schedules + result.schedules);
    if (progress && result.schedules % 1000 == 0)
      std::fprintf(stderr, "\rweft: %" PRIu64 "/%" PRIu64 " schedules",
                   result.schedules, last - first);
    if (!run.failed()) continue;
    if (progress) std::fprintf(stderr, "\n");
    take_failure(result, run, seed, strategy, std::move(key));
    report_failure(sched, strategy, o, replaying, result, body);
    return result;
  }
  if (progress) std::fprintf(stderr, "\r");
  result.strategy = strategy.name();
  result.exhausted = strategy.finished();
  if (result.exhausted) result.coverage = strategy.coverage_note();
  result.summary = internal::pass_summary(result, o);
  if (self_split)
    result.summary += " (shard " + std::to_string(g_shard_index) + " of " +
                      std::to_string(g_shard_total) + ": its share only)";
  if (checkpointing) {
    save_checkpoint(o, strategy, g_shard_index, g_shard_total,
                    o.resumed_schedules + result.schedules);
    result.summary += " (checkpoint " + o.checkpoint_file + ": " +
                      std::to_string(o.resumed_schedules + result.schedules) +
                      " schedules in all)";
  }
  if (o.print && (o.verbose || isatty(STDERR_FILENO)))
    std::fprintf(stderr, "%s\n", result.summary.c_str());
  return result;
}

// How many jobs a WEFT_JOBS search runs in: a strategy that does not
// split itself splits the iterations, so at most one job per iteration.
std::uint64_t jobs_for(const ExploreOptions& o, Strategy& strategy) {
#if defined(WEFT_TSAN)
  // ThreadSanitizer does not support fork() in a process that has run
  // threads (as for containment): one process.
  return 1;
#endif
  if (o.jobs <= 1 || o.replay.has_value() || internal::in_job()) return 1;
  if (strategy.split(g_shard_index, g_shard_total)) return o.jobs;
  return std::max<std::uint64_t>(
      1, std::min(o.jobs, o.iterations / g_shard_total));
}

}  // namespace

ExploreResult explore(ExploreOptions o, const std::function<void()>& body) {
  std::unique_ptr<Strategy> strategy = configure(o);
  internal::next_trace_name(o);
  o.jobs = jobs_for(o, *strategy);
  if (o.jobs > 1)
    return internal::run_jobs(o, *strategy, body, run_schedules, g_shard_index,
                              g_shard_total);
  if (!o.checkpoint_file.empty() && !o.replay)
    resume_checkpoint(o, *strategy, g_shard_index, g_shard_total);
  if (internal::contained(o))
    return internal::explore_contained(o, *strategy, body, run_schedules);
  return run_schedules(o, *strategy, body);
}

ExploreResult report_schedule(ExploreOptions o, const std::string& source,
                              const Schedule& schedule,
                              const std::function<void()>& body) {
  if (o.command.empty()) o.command = this_program("<your test binary>");
  internal::next_trace_name(o);
  ReplayStrategy strategy(schedule, /*lenient_tail=*/true);
  Scheduler sched(o.limits);
  RunResult run = sched.run(strategy, 0, body);
  ExploreResult result;
  result.schedules = 1;
  result.strategy = source;
  if (!run.failed()) return result;
  result.failure = run.failure;
  result.schedule = std::move(run.schedule);
  result.digest = digest(result.schedule);
  result.steps = run.steps;
  report_failure(sched, strategy, o, false, result, body);
  return result;
}

}  // namespace weft::sim
