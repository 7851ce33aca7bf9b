// flight::run: recording under a supervisor, replaying in the simulation.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "sim/check.h"
#include "sim/flight.h"
#include "sim/harness/explore.h"
#include "sim/harness/flight/flight.h"
#include "sim/harness/flight/recording.h"
#include "sim/harness/flight/replayer.h"
#include "sim/harness/schedule_trace.h"
#include "sim/scheduler.h"
#include "traces/format.h"
#include "traces/self_exe.h"

namespace weft::sim::flight {
namespace {

std::string g_command;  // the program's command line, for the header

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

// "64MiB", "512KiB", "1GiB", "4096": bytes (digits only, then an optional
// unit); nullopt if malformed or past 2^64 (a sign, a space or an
// overflow would otherwise size the ring wrongly).
std::optional<std::uint64_t> parse_size(const std::string& s) {
  const std::size_t digits = s.find_first_not_of("0123456789");
  const std::string number = s.substr(0, digits);
  const std::string unit = digits == std::string::npos ? "" : s.substr(digits);
  int shift = 0;
  if (unit == "KiB" || unit == "K")
    shift = 10;
  else if (unit == "MiB" || unit == "M")
    shift = 20;
  else if (unit == "GiB" || unit == "G")
    shift = 30;
  else if (!unit.empty() && unit != "B")
    return std::nullopt;
  std::uint64_t n = 0;
  try {
    n = parse_env_u64("", number.c_str(), 0, UINT64_MAX >> shift, "");
  } catch (const ConfigError&) {
    return std::nullopt;  // empty, or past 2^64 once the unit applies
  }
  return n << shift;
}

// A count from the variable `name` (`fallback` when unset), from `min` to
// `max`; nullopt after saying on stderr what is wrong with it.
std::optional<std::uint64_t> count_from(const char* name,
                                        std::uint64_t fallback,
                                        std::uint64_t min, std::uint64_t max,
                                        const char* what) {
  const char* v = env(name);
  if (v == nullptr) return fallback;
  try {
    return parse_env_u64(name, v, min, max, what);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "weft: %s\n", e.what());
    return std::nullopt;
  }
}

int run_body(const std::function<void()>& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: the program failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "weft: the program failed: an unknown exception\n");
  }
  return 1;
}

std::string ended_by(int status, int& code) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    code = 128 + sig;
    return "killed by signal " + std::to_string(sig) + " (" +
           (sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig)
                              : std::string("?")) +
           ")";
  }
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  return "exit status " + std::to_string(code);
}

int record(const std::string& dir, const std::function<void()>& body) {
  const auto ring =
      parse_size(env("WEFT_RECORD_RING") ? env("WEFT_RECORD_RING") : "64MiB");
  const auto slots = parse_size(
      env("WEFT_RECORD_THREADS") ? env("WEFT_RECORD_THREADS") : "64");
  // Up to 1 TiB: the ring is mapped whole, and its size times the rings
  // must not wrap.
  if (!ring || !slots || *slots == 0 || *slots > 65536 || *ring == 0 ||
      *ring > (std::uint64_t{1} << 40)) {
    std::fprintf(stderr,
                 "weft: WEFT_RECORD_RING must be a size from 1 byte to 1TiB "
                 "(64MiB, 512KiB, ...) and WEFT_RECORD_THREADS a number of "
                 "rings from 1 to 65536\n");
    return 2;
  }
  const bool all =
      env("WEFT_RECORD_ALL") && std::strcmp(env("WEFT_RECORD_ALL"), "0");
  const auto n = static_cast<std::uint32_t>(*slots);
  const std::uint64_t capacity =
      std::max<std::uint64_t>(1, *ring / n / sizeof(Event));
  const std::size_t bytes = Arena::bytes_for(n, capacity);
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("weft: flight recorder ring");
    return 2;
  }
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) {
    std::perror("weft: flight recorder fork");
    return 2;
  }
  if (child == 0) {
    attach(mem, n, capacity, !all);
    const int code = run_body(body);
    detach();
    std::fflush(nullptr);
    std::exit(code);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  int code = 0;
  const std::string reason = ended_by(status, code);
  if (code != 0 || all) {
    const std::string path =
        dir + "/weft-flight-" + std::to_string(child) + ".trace";
    try {
      const std::uint64_t ops =
          write_recording(*static_cast<Arena*>(mem), path, reason, g_command);
      // "ended with exit status 1", "was killed by signal 9 (SIGKILL)".
      const std::string how =
          (reason.rfind("killed", 0) == 0 ? "was " : "ended with ") + reason;
      std::fprintf(stderr,
                   "weft: flight recording of a run that %s: %s "
                   "(%llu operations)\n",
                   how.c_str(), path.c_str(),
                   static_cast<unsigned long long>(ops));
    } catch (const std::exception& e) {
      // The writer's message names the file: "cannot write PATH: why".
      std::fprintf(stderr, "weft: the recording is lost: %s\n", e.what());
      if (code == 0) code = 2;  // the run passed, but its recording is lost
    }
  }
  munmap(mem, bytes);
  return code;
}

std::string outcome(const RunResult& r) {
  if (!r.failure) return "no failure";
  return std::string(to_string(r.failure->kind)) + ": " + r.failure->message;
}

int replay(const std::string& file, const std::function<void()>& body) {
  Recording rec;
  try {
    rec = read_recording(file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: %s\n", e.what());
    return 2;
  }
  if (const std::string why = refuse_reason(rec);
      !why.empty() && !env("WEFT_REPLAY_ANY_BUILD")) {
    std::fprintf(stderr,
                 "weft: %s: not replaying a flight recording %s "
                 "(WEFT_REPLAY_ANY_BUILD=1 replays it anyway)\n",
                 file.c_str(), why.c_str());
    return 2;
  }
  if (!rec.losses.empty())
    std::fprintf(stderr, "weft: the recording lost operations:\n%s\n",
                 rec.losses.c_str());
  const auto times = count_from("WEFT_REPLAY_TIMES", 1, 1, 1'000'000,
                                "expected how many times to replay");
  const auto seed =
      count_from("WEFT_SEED", 1, 0, UINT64_MAX, "expected a seed");
  const auto steps = count_from("WEFT_MAX_STEPS", 100'000, 1, UINT64_MAX,
                                "expected a step limit");
  if (!times || !seed || !steps) return 2;
  FlightReplay strategy(rec);
  RunLimits limits;
  limits.max_steps = *steps;
  Scheduler sched(limits);
  sched.set_replay_hooks(&strategy);
  std::unique_ptr<ScheduleRecorder> out;
  if (const char* path = env("WEFT_REPLAY_SCHEDULE")) {
    traces::TraceHeader h;
    h.metadata = {{"seed", std::to_string(*seed)},
                  {"strategy", "flight"},
                  {"flight_recording", file}};
    add_build_metadata(h);
    out = std::make_unique<ScheduleRecorder>(path, h);
    sched.set_observer(out.get());
  }
  RunResult first;
  std::uint64_t same = 0;
  for (std::uint64_t i = 0; i < *times; ++i) {
    RunResult r = sched.run(strategy, *seed, body);
    if (i == 0) {
      if (out) {
        sched.set_observer(nullptr);
        out->close();
      }
      first = std::move(r);
      same = 1;
    } else if (outcome(r) == outcome(first) &&
               digest(r.schedule) == digest(first.schedule)) {
      ++same;
    }
  }
  std::printf(
      "weft: replayed %s (recorded: %s): %llu of %llu recorded "
      "operations checked",
      file.c_str(), rec.header.get("reason").c_str(),
      static_cast<unsigned long long>(strategy.replayed()),
      static_cast<unsigned long long>(strategy.recorded()));
  if (strategy.tail_from() != 0)
    std::printf(", then the random tail from step %llu",
                static_cast<unsigned long long>(strategy.tail_from()));
  std::printf("\n");
  if (first.failure) {
    const std::string& m = first.failure->message;
    std::printf(
        "weft: the replay failed (%s) at step %llu in strand '%s': %s\n",
        std::string(to_string(first.failure->kind)).c_str(),
        static_cast<unsigned long long>(first.failure->step),
        first.failure->strand.c_str(), m.substr(0, m.find('\n')).c_str());
  } else {
    std::printf("weft: the replay ended without a failure\n");
  }
  std::printf("weft: the same outcome and schedule in %llu of %llu runs\n",
              static_cast<unsigned long long>(same),
              static_cast<unsigned long long>(*times));
  std::fflush(stdout);
  return first.failure || same != *times ? 1 : 0;
}

}  // namespace

int run(int argc, char** argv, const std::function<void()>& body) {
  // The program by its full path, so `weft replay FILE` runs it from
  // anywhere.
  const std::string self = traces::self_executable();
  g_command = self.empty() && argc > 0 ? argv[0] : self;
  for (int i = 1; i < argc; ++i) g_command += " " + std::string(argv[i]);
  if (const char* file = env("WEFT_REPLAY")) return replay(file, body);
  if (const char* dir = env("WEFT_RECORD")) return record(dir, body);
  return run_body(body);
}

bool save(const std::string& path, const std::string& reason) {
  Arena* a = g_arena.load(std::memory_order_acquire);
  if (a == nullptr) return false;
  write_recording(*a, path, reason, g_command);
  return true;
}

}  // namespace weft::sim::flight
