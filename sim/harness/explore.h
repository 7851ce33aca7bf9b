// explore() runs a test body under many schedules and stops at the first
// failure, which it reports with the seed, strategy, step, virtual time and
// one command that replays exactly that schedule. Each schedule is a pure
// function of (strategy, its seed, the options), never of earlier runs'
// timing, so a printed seed reproduces on any machine with the same build.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/choice.h"
#include "sim/scheduler.h"
#include "sim/surw_target.h"

namespace weft::sim {

struct ExploreOptions {
  // A name from sim/harness/strategy_registry.h: "portfolio" (surw for
  // three schedules in four, pos for the fourth), "pct", "random", "dfs"
  // (exhaustive within preemption_bound; it may end the search before
  // `iterations`), ...
  std::string strategy = "portfolio";
  std::uint64_t seed = 0;  // schedule i is seeded seed + i
  std::uint64_t iterations = 1000;
  int pct_depth = 3;
  std::uint64_t pct_steps = 0;  // k for PCT; 0 = learn it from the runs
  int preemption_bound = -1;    // for dfs and dpor; -1 = unbounded
  // The most delays a schedule may make: for dfs (-1: unbounded) and the
  // delays each delaybound schedule places (-1: its default, 2).
  int delay_bound = -1;
  // For pctrange: each schedule's PCT depth is drawn from [1, this].
  int pct_max_depth = 10;
  // Any strategy: once a schedule has made this many preemptions, the rest
  // of it does not preempt (-1: no budget). A strategy's own preemption
  // bound (dfs) is lowered to it.
  int max_preemptions = -1;
  // For surw: the starting counts of choice points by strand id (empty:
  // learned from the schedules as they run).
  std::vector<std::uint32_t> surw_profile;
  SurwTarget::Choice surw_target;  // WEFT_SURW_TARGET (empty: drawn)
  RunLimits limits;
  // When true (the default), WEFT_* variables override the fields above,
  // so a printed replay command takes effect whatever the test says.
  bool use_environment = true;
  // Replays one recorded schedule instead of exploring (empty = explore).
  // A lenient replay lets the run go on past the recorded choices.
  std::optional<Schedule> replay;
  bool replay_lenient = false;
  // Replays the schedule trace in this file (WEFT_REPLAY); overrides
  // `replay`.
  std::string replay_file;
  // For strategy "bytes": the file whose bytes choose the one schedule
  // (WEFT_FUZZ_INPUT, a fuzzer's input or crash file; sim/harness/fuzz.h).
  std::string fuzz_input;
  // The test's name ("Suite.Name"), for trace file names and metadata.
  std::string name;
  // Where the failing schedule and its shrunk form are written as trace
  // files (WEFT_TRACE_DIR); empty: not written.
  std::string trace_dir = "weft-traces";
  // The command that reruns this exploration, e.g. "./tests --gtest_filter=
  // Suite.Name"; the replay command is the WEFT_* assignments followed by
  // this. Default: the program's own name.
  std::string command;
  // Stops the search after this much real time (WEFT_TIME_BUDGET, whole
  // seconds; 0: no budget), whatever `iterations` says. The budget is read
  // between schedules, never inside one, so each schedule stays a pure
  // function of its seed; only how many run depends on the machine.
  std::uint64_t time_budget_s = 0;
  // WEFT_CHECKPOINT: an exhaustive search (dfs) resumes from this file when
  // it exists, and saves where it stands there every 10,000 schedules and
  // when it stops without a failure (the end, the iterations, the time
  // budget), so a search can run in slices or survive being killed.
  std::string checkpoint_file;
  // WEFT_JOBS: run the search in this many local processes, each a
  // disjoint share (the shards of set_shard(), within this process's own
  // shard), and merge their results (sim/harness/jobs.h). 1: this process.
  std::uint64_t jobs = 1;
  // Set by explore() on resuming: the schedules the checkpoint counted.
  std::uint64_t resumed_schedules = 0;
  // Print the report of a failure (and progress on a terminal) to stderr.
  bool print = true;
  // With `print`, print the failure's report too. The GoogleTest glue
  // turns it off for tests that fail with the report, so it shows once.
  bool print_failure = true;
  // Print one line on a pass, too (WEFT_VERBOSE=1; always on a terminal).
  bool verbose = false;
  // Re-run the failing schedule and check its digest is the same.
  bool check_determinism = true;
  // Run every schedule twice and fail on the first whose two runs differ
  // (WEFT_CHECK_DETERMINISM=all): FoundationDB's unseed check.
  bool check_every_schedule = false;
  // Crash containment (WEFT_CONTAIN, sim/harness/contain.h). kBatch runs
  // the schedules in one supervised child process per explore() call, so
  // a body that aborts, faults, calls exit(), overflows a strand's stack
  // or hangs is reported as a failure and this process goes on; the body's
  // side effects then stay in the child. kOff runs them in this process.
  // Off by default under ThreadSanitizer, which does not support fork()
  // in a process that has run threads.
  enum class Contain : std::uint8_t { kOff, kBatch };
#if defined(WEFT_TSAN)
  Contain contain = Contain::kOff;
#else
  Contain contain = Contain::kBatch;
#endif
  // A contained schedule that reaches no choice point for this many real
  // seconds fails as hung (WEFT_WATCHDOG; 0: no watchdog). Real time only
  // decides whether to give up, never a choice.
  std::uint64_t watchdog_s = 10;
  // Shrink the failing schedule (fewer preemptions, then fewer choices).
  bool shrink = true;
  std::uint64_t shrink_runs = 2000;
};

struct ExploreResult {
  std::uint64_t schedules = 0;  // schedules run
  // The strategy finished its search (dfs: every schedule within the
  // bound ran), so a pass covers the whole tree, not a sample of it.
  bool exhausted = false;
  bool out_of_time = false;  // WEFT_TIME_BUDGET ended the search
  // What the search covered: schedules by strategy name, how many were
  // distinct (by digest), the most preemptions one made.
  std::map<std::string, std::uint64_t> by_strategy;
  std::uint64_t distinct = 0;
  std::size_t max_preemptions = 0;
  // What an exhausted search covered, in the strategy's words ("" for
  // the summary's default), e.g. how much DPOR pruned.
  std::string coverage;
  std::string summary;  // the one line printed on a pass
  std::optional<Failure> failure;
  std::uint64_t seed = 0;   // of the failing schedule
  std::string strategy;     // of the failing schedule ("pct", "random", ...)
  std::string environment;  // WEFT_* assignments that select it again
  Schedule schedule;        // the failing schedule
  // The shrunk schedule (replay with a lenient tail), if shrinking ran.
  std::optional<Schedule> shrunk;
  std::uint64_t digest = 0;
  std::uint64_t steps = 0;
  std::string report;          // the full human-readable report
  std::string replay_command;  // one line, copy-pasteable: by seed
  // The failing schedule and its shrunk form as trace files ("" if not
  // written), and the command that replays the smaller from its file.
  std::string trace_path;
  std::string shrunk_trace_path;
  std::string trace_replay_command;
  // For a contained crash: the signal (kCrash, kStackOverflow) and the
  // exit status (kExit); 0 and -1 otherwise.
  int signal = 0;
  int exit_status = -1;
  // The failing schedule's place in the unsharded run's order
  // (Strategy::order_key, or its iteration), for merging WEFT_JOBS.
  std::vector<std::uint32_t> order_key;
  std::uint64_t jobs = 1;  // processes the search ran in (WEFT_JOBS)
  bool failed() const { return failure.has_value(); }
};

// A WEFT_* variable or option with a bad value. The message names the
// variable, the value and what is accepted.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// `value` of the variable `name` as an integer from `min` to `max`
// (decimal or 0x-hexadecimal, nothing else around it). Throws ConfigError
// naming the variable, the value, `what` it should be and the range. The
// one parser of weft's numeric variables.
std::uint64_t parse_env_u64(const char* name, const char* value,
                            std::uint64_t min, std::uint64_t max,
                            const char* what);

// Applies WEFT_SEED, WEFT_ITERATIONS, WEFT_STRATEGY, WEFT_PCT_DEPTH,
// WEFT_PCT_STEPS, WEFT_PCT_MAX_DEPTH, WEFT_DELAY_BOUND,
// WEFT_PREEMPTION_BOUND, WEFT_MAX_PREEMPTIONS, WEFT_SURW_PROFILE,
// WEFT_SURW_TARGET,
// WEFT_TIME_BUDGET, WEFT_JOBS, WEFT_VERBOSE, WEFT_MAX_STEPS,
// WEFT_STACK_SIZE, WEFT_REPLAY, WEFT_CHECKPOINT, WEFT_TRACE_DIR, WEFT_CONTAIN,
// WEFT_WATCHDOG, WEFT_CHECK_DETERMINISM and WEFT_FUZZ_INPUT to `options`.
// Throws
// ConfigError on a malformed value.
void apply_environment(ExploreOptions& options);

ExploreResult explore(ExploreOptions options,
                      const std::function<void()>& body);

// `s` as one shell word for a printed command: as it is when it is plain,
// else in single quotes.
std::string shell_quote(const std::string& s);

// The running binary's path, shell-quoted for a printed command, or
// `fallback` if it cannot be found. Replay commands start with it.
std::string this_program(const std::string& fallback);

// Splits every exploration's iterations across `total` shards: this
// process runs the share of shard `index` (set from GTEST_SHARD_INDEX and
// GTEST_TOTAL_SHARDS by weft::testing::take_over_sharding).
void set_shard(std::uint64_t index, std::uint64_t total);

}  // namespace weft::sim
