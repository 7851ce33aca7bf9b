#include <cstdlib>
#include <string>

#include "sim/harness/explore.h"
#include "sim/harness/jobs.h"
#include "sim/harness/strategy_registry.h"
#include "sim/surw_strategy.h"

// explore()'s configuration: the WEFT_* variables and their checks.
namespace weft::sim {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

}  // namespace

std::uint64_t parse_env_u64(const char* name, const char* value,
                            std::uint64_t min, std::uint64_t max,
                            const char* what) {
  const std::string s = value;
  std::uint64_t out = 0;
  bool ok = !s.empty();
  std::size_t i = 0;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    i = 2;
  }
  for (; ok && i < s.size(); ++i) {
    const char c = s[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      ok = false;
      break;
    }
    const auto b = static_cast<std::uint64_t>(base);
    if (out > (UINT64_MAX - static_cast<std::uint64_t>(digit)) / b) {
      ok = false;
      break;
    }
    out = out * b + static_cast<std::uint64_t>(digit);
  }
  if (!ok || out < min || out > max) {
    throw ConfigError(std::string(name) + "='" + s + "' is not valid: " + what +
                      " (accepted: an integer from " + std::to_string(min) +
                      " to " + std::to_string(max) +
                      ", decimal or 0x-hexadecimal)");
  }
  return out;
}

void apply_environment(ExploreOptions& o) {
  if (const char* v = env("WEFT_SEED"))
    o.seed = parse_env_u64("WEFT_SEED", v, 0, UINT64_MAX, "expected a seed");
  if (const char* v = env("WEFT_ITERATIONS"))
    o.iterations = parse_env_u64("WEFT_ITERATIONS", v, 1, UINT64_MAX,
                                 "expected a number of schedules");
  if (const char* v = env("WEFT_STRATEGY")) {
    const std::string s = v;
    if (find_strategy(s) == nullptr)
      throw ConfigError("WEFT_STRATEGY='" + s +
                        "' is not a strategy (accepted: " + strategy_names() +
                        ")");
    o.strategy = s;
  }
  if (const char* v = env("WEFT_PCT_DEPTH"))
    o.pct_depth = static_cast<int>(
        parse_env_u64("WEFT_PCT_DEPTH", v, 1, 32, "expected a PCT bug depth"));
  if (const char* v = env("WEFT_PCT_STEPS"))
    o.pct_steps = parse_env_u64("WEFT_PCT_STEPS", v, 1, UINT64_MAX,
                                "expected the PCT schedule length estimate k");
  if (const char* v = env("WEFT_PREEMPTION_BOUND"))
    o.preemption_bound = static_cast<int>(
        parse_env_u64("WEFT_PREEMPTION_BOUND", v, 0, 1000,
                      "expected the most preemptions a dfs schedule may make"));
  if (const char* v = env("WEFT_PCT_MAX_DEPTH"))
    o.pct_max_depth = static_cast<int>(parse_env_u64(
        "WEFT_PCT_MAX_DEPTH", v, 1, 32, "expected the deepest PCT depth"));
  if (const char* v = env("WEFT_DELAY_BOUND"))
    o.delay_bound = static_cast<int>(
        parse_env_u64("WEFT_DELAY_BOUND", v, 0, 1000,
                      "expected the most delays a schedule may make (dfs, "
                      "delaybound)"));
  if (const char* v = env("WEFT_MAX_PREEMPTIONS"))
    o.max_preemptions = static_cast<int>(
        parse_env_u64("WEFT_MAX_PREEMPTIONS", v, 0, 1000,
                      "expected the most preemptions a schedule may make"));
  if (const char* v = env("WEFT_SURW_PROFILE")) {
    try {
      o.surw_profile = SurwStrategy::decode(v);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("WEFT_SURW_PROFILE='") + v +
                        "' is not valid: " + e.what() +
                        " (accepted: counts by strand id, comma-separated, "
                        "a run as count*times, e.g. 3,2*49,5)");
    }
  }
  if (const char* v = env("WEFT_SURW_TARGET")) {
    try {
      o.surw_target = SurwTarget::decode(v);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("WEFT_SURW_TARGET='") + v +
                        "' is not valid: " + e.what() +
                        " (accepted: counts as in WEFT_SURW_PROFILE, '/', "
                        "then the target's names strand.ordinal, "
                        "comma-separated, a run of strands as first-last, "
                        "e.g. 0,2*3/1-3.0)");
    }
  }
  if (const char* v = env("WEFT_TIME_BUDGET"))
    o.time_budget_s = parse_env_u64("WEFT_TIME_BUDGET", v, 1, 1'000'000'000,
                                    "expected a number of seconds");
  if (const char* v = env("WEFT_JOBS"))
    o.jobs = parse_env_u64("WEFT_JOBS", v, 1, kMaxJobs,
                           "expected a number of local processes");
  if (const char* v = env("WEFT_VERBOSE"))
    o.verbose = parse_env_u64("WEFT_VERBOSE", v, 0, 1, "expected 0 or 1") == 1;
  if (const char* v = env("WEFT_MAX_STEPS"))
    o.limits.max_steps = parse_env_u64("WEFT_MAX_STEPS", v, 1, UINT64_MAX,
                                       "expected a step limit");
  if (const char* v = env("WEFT_REPLAY")) o.replay_file = v;
  if (const char* v = env("WEFT_CHECKPOINT")) o.checkpoint_file = v;
  if (const char* v = std::getenv("WEFT_TRACE_DIR")) o.trace_dir = v;
  if (const char* v = env("WEFT_CONTAIN")) {
    const std::string s = v;
    if (s == "batch")
      o.contain = ExploreOptions::Contain::kBatch;
    else if (s == "off")
      o.contain = ExploreOptions::Contain::kOff;
    else
      throw ConfigError("WEFT_CONTAIN='" + s +
                        "' is not valid (accepted: batch, a supervised "
                        "child process runs the schedules; off, they run "
                        "in this process)");
  }
  if (const char* v = env("WEFT_WATCHDOG"))
    o.watchdog_s = parse_env_u64("WEFT_WATCHDOG", v, 0, 1'000'000,
                                 "expected seconds without a choice point "
                                 "before a schedule counts as hung (0: never)");
  if (const char* v = env("WEFT_CHECK_DETERMINISM")) {
    const std::string s = v;
    if (s != "all" && s != "failing" && s != "off")
      throw ConfigError("WEFT_CHECK_DETERMINISM='" + s +
                        "' is not valid (accepted: failing, re-run the "
                        "failing schedule; all, run every schedule twice; "
                        "off)");
    o.check_determinism = s != "off";
    o.check_every_schedule = s == "all";
  }
  if (const char* v = env("WEFT_STACK_SIZE"))
    o.limits.stack_size =
        parse_env_u64("WEFT_STACK_SIZE", v, 16 * 1024, std::uint64_t{1} << 30,
                      "expected a strand stack size in bytes");
  if (const char* v = env("WEFT_FUZZ_INPUT")) {  // one schedule, by bytes
    o.fuzz_input = v;
    o.strategy = "bytes";
    o.iterations = 1;
  }
}

}  // namespace weft::sim
