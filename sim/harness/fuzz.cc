#include "sim/harness/fuzz.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "sim/byte_strategy.h"
#include "sim/harness/explore.h"
#include "sim/harness/explore_steps.h"
#include "sim/harness/schedule_trace.h"
#include "sim/scheduler.h"

namespace weft::sim {

std::unique_ptr<Strategy> make_byte_strategy(const ExploreOptions& o) {
  if (o.fuzz_input.empty())
    return std::make_unique<ByteStrategy>(ByteStrategy::seeded());
  const std::string& path = o.fuzz_input;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError("WEFT_FUZZ_INPUT: '" + path +
                      "' is a directory, not an input file");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError("WEFT_FUZZ_INPUT: cannot read '" + path +
                      "': " + std::strerror(errno));
  // A fuzzer's input is a few KiB; a cap keeps /dev/zero from hanging us.
  constexpr std::size_t kMaxBytes = std::size_t{16} << 20;
  std::vector<std::uint8_t> bytes;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    bytes.insert(bytes.end(), buf, buf + in.gcount());
    if (bytes.size() > kMaxBytes)
      throw ConfigError("WEFT_FUZZ_INPUT: '" + path + "' is longer than " +
                        std::to_string(kMaxBytes) + " bytes (at byte offset " +
                        std::to_string(bytes.size()) +
                        "); a schedule's input is a few KiB");
  }
  if (in.bad())
    throw ConfigError("WEFT_FUZZ_INPUT: error reading '" + path +
                      "' at byte offset " + std::to_string(bytes.size()));
  return std::make_unique<ByteStrategy>(
      bytes, "WEFT_FUZZ_INPUT=" +
                 internal::shell_quote(
                     std::filesystem::absolute(o.fuzz_input).string()));
}

}  // namespace weft::sim

namespace weft::fuzzing {
namespace {

namespace fs = std::filesystem;
using sim::ByteStrategy;
using sim::RunResult;
using sim::Scheduler;

// What every input of one fuzzing process shares: the options read once
// from WEFT_* (step limit, stack size, trace directory) and one scheduler,
// whose stacks are reused from input to input.
struct Target {
  sim::ExploreOptions options;
  std::string record_dir;  // WEFT_FUZZ_RECORD
  std::unique_ptr<Scheduler> scheduler;
};

Target& target() {
  static Target* t = [] {
    auto* made = new Target;
    try {
      sim::apply_environment(made->options);
    } catch (const sim::ConfigError& e) {
      std::fprintf(stderr, "weft: %s\n", e.what());
      std::exit(2);
    }
    if (const char* v = std::getenv("WEFT_FUZZ_RECORD")) made->record_dir = v;
    made->scheduler = std::make_unique<Scheduler>(made->options.limits);
    return made;
  }();
  return *t;
}

// A name for files from the stringized body: letters, digits, '_', '-'.
std::string file_part(const char* name) {
  std::string out;
  for (const char* p = name; *p != '\0' && out.size() < 40; ++p)
    if (std::isalnum(static_cast<unsigned char>(*p)) || *p == '_' || *p == '-')
      out += *p;
  return out.empty() ? "fuzz" : out;
}

// Runs the input again with a recorder on, into `dir`; returns the path.
std::string record(Target& t, const std::string& dir, const char* name,
                   std::span<const std::uint8_t> input, const RunResult& run,
                   const std::function<void()>& body) {
  fs::create_directories(dir);
  const std::string path =
      fs::absolute(fs::path(dir) /
                   (file_part(name) + "-" +
                    sim::internal::hex(digest(run.schedule)) + ".weft"))
          .string();
  traces::TraceHeader h;
  h.kind = traces::TraceKind::kSchedule;
  h.metadata = {{"test", name},
                {"strategy", "bytes"},
                {"input_bytes", std::to_string(input.size())}};
  if (run.failed())
    h.metadata.emplace_back("failure",
                            std::string(to_string(run.failure->kind)));
  sim::add_build_metadata(h);
  sim::ScheduleRecorder recorder(path, h);
  ByteStrategy again(input);
  t.scheduler->set_observer(&recorder);
  t.scheduler->run(again, 0, body);
  t.scheduler->set_observer(nullptr);
  recorder.close();
  return path;
}

void report(const RunResult& run, std::size_t size, std::size_t consumed,
            const std::string& trace) {
  const sim::Failure& f = *run.failure;
  std::string r = "weft: " + std::string(to_string(f.kind)) +
                  " under the fuzzer's input (" + std::to_string(size) +
                  " bytes, " + std::to_string(consumed) + " read)\n";
  r += "  at step " + std::to_string(f.step);
  if (!f.strand.empty()) r += ", in strand '" + f.strand + "'";
  r += "\n  " + f.message + "\n";
  r += "  schedule: " + std::to_string(run.schedule.size()) + " choices, " +
       std::to_string(count_preemptions(run.schedule)) + " preemptions, " +
       std::to_string(run.steps) + " steps, digest " +
       sim::internal::hex(digest(run.schedule)) + "\n";
  if (!trace.empty()) {
    r += "  trace: " + trace + "\n";
    r += "replay it in the test that runs this body:\n  WEFT_REPLAY=" +
         sim::internal::shell_quote(trace) + " <test binary>\n";
  }
  r += "or run the crash file there (shrinks it and writes its traces):\n"
       "  WEFT_FUZZ_INPUT=<crash file> <test binary>\n";
  std::fputs(r.c_str(), stderr);
}

}  // namespace

int run_input(const std::uint8_t* data, std::size_t size,
              const std::function<void()>& body, const char* name) {
  Target& t = target();
  const std::span<const std::uint8_t> input(data, size);
  ByteStrategy strategy(input);
  const RunResult run = t.scheduler->run(strategy, 0, body);
  try {
    if (!t.record_dir.empty()) {
      const std::string path = record(t, t.record_dir, name, input, run, body);
      std::fprintf(stderr, "weft: %zu choices -> %s\n", run.schedule.size(),
                   path.c_str());
    }
    if (!run.failed()) return 0;
    std::string trace;
    if (!t.options.trace_dir.empty())
      trace = record(t, t.options.trace_dir, name, input, run, body);
    report(run, size, strategy.consumed(), trace);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weft: could not write the trace: %s\n", e.what());
    if (!run.failed()) return 0;
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace weft::fuzzing
