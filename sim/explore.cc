#include "sim/explore.h"

#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "sim/schedule_trace.h"
#include "sim/shrink.h"
#include "traces/self_exe.h"

namespace weft::sim {
namespace {

std::uint64_t g_shard_index = 0;
std::uint64_t g_shard_total = 1;

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

std::uint64_t parse_u64(const char* name, const char* value, std::uint64_t min,
                        std::uint64_t max, const char* what) {
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

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%016" PRIx64, v);
  return buf;
}

std::string format_time(Nanos t) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9gs", static_cast<double>(t.count()) / 1e9);
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

// Writes the failing schedule (and its shrunk form) as trace files and
// fills the result's paths and trace replay command; returns the report's
// lines about them.
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

}  // namespace

std::string this_program(const std::string& fallback) {
  const std::string self = traces::self_executable();
  if (self.empty()) return fallback;
  return shell_quote(self);
}

void set_shard(std::uint64_t index, std::uint64_t total) {
  g_shard_total = total == 0 ? 1 : total;
  g_shard_index = index < g_shard_total ? index : 0;
}

void apply_environment(ExploreOptions& o) {
  if (const char* v = env("WEFT_SEED"))
    o.seed = parse_u64("WEFT_SEED", v, 0, UINT64_MAX, "expected a seed");
  if (const char* v = env("WEFT_ITERATIONS"))
    o.iterations = parse_u64("WEFT_ITERATIONS", v, 1, UINT64_MAX,
                             "expected a number of schedules");
  if (const char* v = env("WEFT_STRATEGY")) {
    const std::string s = v;
    if (s != "portfolio" && s != "pct" && s != "random")
      throw ConfigError("WEFT_STRATEGY='" + s +
                        "' is not a strategy (accepted: portfolio, pct, "
                        "random)");
    o.strategy = s;
  }
  if (const char* v = env("WEFT_PCT_DEPTH"))
    o.pct_depth = static_cast<int>(
        parse_u64("WEFT_PCT_DEPTH", v, 1, 32, "expected a PCT bug depth"));
  if (const char* v = env("WEFT_PCT_STEPS"))
    o.pct_steps = parse_u64("WEFT_PCT_STEPS", v, 1, UINT64_MAX,
                            "expected the PCT schedule length estimate k");
  if (const char* v = env("WEFT_MAX_STEPS"))
    o.limits.max_steps =
        parse_u64("WEFT_MAX_STEPS", v, 1, UINT64_MAX, "expected a step limit");
  if (const char* v = env("WEFT_REPLAY")) o.replay_file = v;
  if (const char* v = std::getenv("WEFT_TRACE_DIR")) o.trace_dir = v;
  if (const char* v = env("WEFT_STACK_SIZE"))
    o.limits.stack_size =
        parse_u64("WEFT_STACK_SIZE", v, 16 * 1024, std::uint64_t{1} << 30,
                  "expected a strand stack size in bytes");
}

ExploreResult explore(ExploreOptions o, const std::function<void()>& body) {
  if (o.use_environment) apply_environment(o);
  if (o.strategy != "portfolio" && o.strategy != "pct" &&
      o.strategy != "random" && !o.replay)
    throw ConfigError("strategy '" + o.strategy +
                      "' is not one of portfolio, pct, random");
  if (o.command.empty()) o.command = this_program("<your test binary>");
  if (!o.replay_file.empty()) {
    try {
      ScheduleTrace t = read_schedule(o.replay_file);
      o.replay = std::move(t.schedule);
      o.replay_lenient = !t.complete;
      if (!t.complete && o.print)
        std::fprintf(stderr,
                     "weft: %s lost its tail; replaying the %zu choices "
                     "that survive, then running on\n",
                     o.replay_file.c_str(), o.replay->size());
    } catch (const std::exception& e) {
      throw ConfigError("WEFT_REPLAY: " + std::string(e.what()));
    }
  }

  RandomStrategy random;
  PctStrategy pct(o.pct_depth, o.pct_steps);
  std::unique_ptr<ReplayStrategy> replay;
  if (o.replay)
    replay = std::make_unique<ReplayStrategy>(*o.replay, o.replay_lenient);

  // Which slice of the iterations this shard runs.
  std::uint64_t first = 0;
  std::uint64_t last = o.iterations;
  // A replay command runs one schedule: every shard runs it whole.
  if (!o.replay && g_shard_total > 1 && o.iterations >= g_shard_total) {
    first = o.iterations * g_shard_index / g_shard_total;
    last = o.iterations * (g_shard_index + 1) / g_shard_total;
  }
  const bool progress =
      o.print && isatty(STDERR_FILENO) && last - first >= 2000;

  auto strategy_for = [&](std::uint64_t i) -> Strategy& {
    if (replay) return *replay;
    if (o.strategy == "pct") return pct;
    if (o.strategy == "random") return random;
    return i % 4 == 3 ? static_cast<Strategy&>(random) : pct;
  };

  ExploreResult result;
  Scheduler sched(o.limits);
  for (std::uint64_t i = first; i < (replay ? first + 1 : last); ++i) {
    Strategy& strategy = strategy_for(i);
    const std::uint64_t seed = o.seed + i;
    RunResult run = sched.run(strategy, seed, body);
    ++result.schedules;
    if (progress && result.schedules % 1000 == 0)
      std::fprintf(stderr, "\rweft: %" PRIu64 "/%" PRIu64 " schedules",
                   result.schedules, last - first);
    if (!run.failed()) continue;
    if (progress) std::fprintf(stderr, "\n");

    result.failure = run.failure;
    result.seed = seed;
    result.strategy = strategy.name();
    result.environment = strategy.environment();
    result.schedule = std::move(run.schedule);
    result.digest = digest(result.schedule);
    result.steps = run.steps;

    std::string determinism;
    if (o.check_determinism && !replay) {
      // The same seed must give the same schedule: anything else means the
      // body depends on something weft does not control.
      RandomStrategy random2;
      PctStrategy pct2(o.pct_depth, pct.steps_this_run());
      Strategy& again = (&strategy == &pct) ? static_cast<Strategy&>(pct2)
                                            : static_cast<Strategy&>(random2);
      RunResult second = sched.run(again, seed, body);
      if (digest(second.schedule) != result.digest ||
          second.failed() != run.failed()) {
        determinism =
            "\nWARNING: running this seed again gave a different schedule "
            "(digest " +
            hex(digest(second.schedule)) +
            "). The body depends on something outside weft's control: real "
            "threads, clocks, randomness, addresses or global state left "
            "over from an earlier schedule.";
      }
    }

    std::string shrunk;
    if (o.shrink && !replay) {
      const ShrinkResult s = sim::shrink(result.schedule, *result.failure, body,
                                         o.limits, o.shrink_runs);
      // The shrunk schedule pins only a prefix of choices; past it every
      // choice is the default (keep the current strand running).
      shrunk = "  shrunk: " + std::to_string(count_preemptions(s.schedule)) +
               " preemptions and " + std::to_string(s.schedule.size()) +
               " pinned choices (from " +
               std::to_string(count_preemptions(result.schedule)) + " and " +
               std::to_string(result.schedule.size()) + ") in " +
               std::to_string(s.runs) + " runs\n";
      result.shrunk = s.schedule;
    }

    std::string traces;
    if (!replay && !o.trace_dir.empty())
      traces = write_traces(sched, o, result, body);

    const Failure& f = *result.failure;
    result.replay_command =
        replay ? (o.replay_file.empty()
                      ? "(a replay of ExploreOptions::replay: run the same "
                        "code again to replay it)"
                      : "WEFT_REPLAY=" + shell_quote(o.replay_file) + " " +
                            o.command)
        : o.use_environment
            ? "WEFT_SEED=" + std::to_string(seed) + " WEFT_ITERATIONS=1 " +
                  result.environment + " " + o.command
            : "(this exploration ignores WEFT_* variables: set "
              "ExploreOptions::seed = " +
                  std::to_string(seed) + ", iterations = 1 and " +
                  result.environment + ")";
    std::string& r = result.report;
    r = "weft: " + std::string(to_string(f.kind)) + " after " +
        std::to_string(result.schedules) + " schedule" +
        (result.schedules == 1 ? "" : "s") + " (strategy " + result.strategy +
        ", seed " + std::to_string(seed) + ")\n";
    r += "  at step " + std::to_string(f.step) + ", virtual time " +
         format_time(f.time);
    if (!f.strand.empty()) r += ", in strand '" + f.strand + "'";
    r += "\n  " + f.message + "\n";
    r += "  schedule: " + std::to_string(result.schedule.size()) +
         " choices, " + std::to_string(count_preemptions(result.schedule)) +
         " preemptions, " + std::to_string(result.steps) + " steps, digest " +
         hex(result.digest) + determinism + "\n" + shrunk + traces;
    if (!replay) {
      if (!result.trace_replay_command.empty())
        r += "replay it with:\n  " + result.trace_replay_command +
             "\nor by seed:\n  " + result.replay_command + "\n";
      else
        r += "replay it with:\n  " + result.replay_command + "\n";
    } else if (!o.replay_file.empty()) {
      r += "  replayed from " + o.replay_file + "\n";
    }
    if (o.print) std::fputs(r.c_str(), stderr);
    return result;
  }
  return result;
}

}  // namespace weft::sim
