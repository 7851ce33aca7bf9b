#include "replay/cli/alloc_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "replay/alloc/compare.h"
#include "replay/alloc/convert.h"
#include "replay/alloc/generate.h"
#include "replay/alloc/import.h"
#include "replay/alloc/record.h"
#include "replay/alloc/replay.h"
#include "replay/cli/unsigned_check.h"
#include "traces/files.h"
#include "traces/format.h"
#include "traces/reader.h"
#include "traces/self_exe.h"

namespace weft::replay {

struct AllocCommand {
  CLI::App* alloc = nullptr;
  CLI::App* record = nullptr;
  CLI::App* import = nullptr;
  CLI::App* convert = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* generate = nullptr;
  std::string input;
  std::string output;
  std::vector<std::string> program;
  bool children = false;
  bool strict = false;
  std::string allocator = "glibc";
  std::vector<std::string> allocators;
  bool no_check = false;
  bool ordered = false;
  std::string csv;
  std::string html;
  bool timed = false;
  std::uint32_t samples = 200;
  std::uint64_t calls = 1'000'000;
  std::uint32_t threads = 4;
  std::uint64_t seed = 1;
};

namespace {

void add_generate(AllocCommand& c) {
  c.generate = c.alloc->add_subcommand(
      "generate",
      "Write a synthetic timed calls log of any length in constant memory, "
      "deterministic per seed: many small blocks and few large, mostly "
      "short lifetimes with a long-lived tail, some blocks freed by another "
      "thread, idle spells (docs/guide.md, \"Allocator logs\")");
  c.generate->add_option("-o,--output", c.output, "The calls log to write")
      ->required();
  c.generate->add_option("--calls", c.calls, "Allocator calls to write")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  c.generate->add_option("--threads", c.threads, "Threads making them")
      ->check(CLI::Range(std::uint32_t{1}, kMaxThreads))
      ->capture_default_str();
  c.generate->add_option("--seed", c.seed, "The same seed, the same log")
      ->check(unsigned_check())
      ->capture_default_str();
}

int generate_command(const AllocCommand& c) {
  GenerateOptions options;
  options.calls = c.calls;
  options.threads = c.threads;
  options.seed = c.seed;
  const GenerateStats s = generate_log(c.output, options);
  std::cout << "generated " << s.calls << " allocator calls in " << c.output
            << ": " << s.allocations << " allocations, " << s.frees
            << " frees, " << s.reallocs << " reallocs, " << s.handed_off
            << " blocks freed by another thread; at most " << s.peak_live_blocks
            << " live blocks, " << s.end_live_blocks << " at the end; "
            << static_cast<double>(s.duration_ns) / 1e9 << " s recorded\n";
  return 0;
}

}  // namespace

std::shared_ptr<AllocCommand> add_alloc_command(CLI::App& app) {
  auto c = std::make_shared<AllocCommand>();
  c->alloc = app.add_subcommand(
      "alloc",
      "Allocator logs: record a program's allocator calls, convert them to "
      "slots, replay them against any allocator and compare allocators");
  c->alloc->require_subcommand(1);

  c->record = c->alloc->add_subcommand(
      "record",
      "Run a program with the LD_PRELOAD recorder and write every malloc, "
      "free, calloc, realloc, posix_memalign, aligned_alloc, memalign and "
      "valloc call to a weft allocator log (its children run unrecorded "
      "unless --children)");
  c->record->add_option("-o,--output", c->output, "The log to write")
      ->required();
  c->record->add_option("program", c->program, "The program and its arguments")
      ->required();
  c->record->add_flag("--children", c->children,
                      "Also record every program its descendants exec, each "
                      "in OUTPUT.<pid> (a compiler driver's cc1plus, as, ld)");
  c->record->positionals_at_end();

  c->import = c->alloc->add_subcommand(
      "import",
      "Turn a glibc mtrace log (MALLOC_TRACE) or a heaptrack data file "
      "(raw or interpreted; plain, .zst or .gz) into a weft allocator log");
  c->import->add_option("input", c->input, "The foreign log")->required();
  c->import->add_option("-o,--output", c->output, "The weft log to write")
      ->required();

  c->convert = c->alloc->add_subcommand(
      "convert",
      "Replace addresses by dense slot numbers (memory bounded by live "
      "blocks); anomalies are counted, fatal only with --strict. Reads weft, "
      "mtrace and heaptrack logs");
  c->convert->add_option("input", c->input, "A recorded or foreign log")
      ->required();
  c->convert->add_option("-o,--output", c->output, "The slots log to write")
      ->required();
  c->convert->add_flag("--strict", c->strict,
                       "Fail at the first anomaly (unknown or double free, "
                       "address reused before its free, lost records)");

  c->replay = c->alloc->add_subcommand(
      "replay",
      "Replay a slots log against an allocator in a child process, checking "
      "every block, and report speed, latency percentiles, peak and final "
      "RSS and fragmentation; exit 1 if the allocator damaged a block");
  c->replay
      ->add_option("log", c->input,
                   "A slots log, or a calls log (converted on the way)")
      ->required();
  c->replay
      ->add_option("-a,--allocator", c->allocator,
                   "glibc, jemalloc, mimalloc, tcmalloc or a path to a "
                   "malloc-replacing .so")
      ->capture_default_str();
  c->replay->add_flag("--no-check", c->no_check,
                      "No pattern, zero or alignment checks and no latency "
                      "timing: pure speed");
  c->replay->add_flag("--ordered", c->ordered,
                      "One thread per recorded thread, each in its recorded "
                      "order (default: one thread, as fast as possible)");
  c->replay->add_flag(
      "--timed", c->timed,
      "As --ordered, and each thread waits before each call until its "
      "recorded time, so the recorded gaps (idle spells included) are "
      "kept: allocators that purge in the background are measured as in "
      "production. Needs a log with times; checks stay on");
  c->replay
      ->add_option("--samples", c->samples,
                   "Points of the series over the replay (live bytes, RSS, "
                   "latency): between this many and twice as many")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();

  c->compare = c->alloc->add_subcommand(
      "compare",
      "Replay one slots log under several allocators and print one table "
      "with ratios to the first; optionally a mimalloc-bench CSV and an "
      "HTML plot of live bytes and RSS");
  c->compare
      ->add_option("log", c->input,
                   "A slots log, or a calls log (converted on the way)")
      ->required();
  c->compare
      ->add_option("allocators", c->allocators,
                   "Allocators (names or .so paths); the first is the "
                   "baseline")
      ->required();
  c->compare->add_flag("--no-check", c->no_check, "As for replay");
  c->compare->add_flag("--ordered", c->ordered, "As for replay");
  c->compare->add_flag("--timed", c->timed, "As for replay");
  c->compare->add_option("--samples", c->samples, "As for replay")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  c->compare->add_option("--csv", c->csv,
                         "Write mimalloc-bench's benchres.csv layout here");
  c->compare->add_option("--html", c->html,
                         "Write a self-contained HTML/SVG plot here");
  add_generate(*c);
  return c;
}

bool alloc_parsed(const AllocCommand& c) { return c.alloc->parsed(); }

namespace {

std::string beside_self(const std::string& name) {
  const std::string dir = traces::self_executable_dir();
  if (dir.empty()) return "";
  return access((dir + name).c_str(), R_OK) == 0 ? dir + name : "";
}

// Throws std::system_error naming `path` if it could not be written: an
// existing file this process may not write, or a directory that cannot
// take a new one. Creates and removes nothing.
void check_writable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw std::system_error(EISDIR, std::generic_category(),
                              "cannot write " + path);
    if (::access(path.c_str(), W_OK) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot write " + path);
    return;
  }
  if (errno != ENOENT)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create " + path);
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw std::system_error(errno, std::generic_category(),
                            "cannot create " + path);
}

std::string absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

}  // namespace

std::string recorder_library() {
  if (const char* env = std::getenv("WEFT_ALLOC_RECORDER"))
    if (*env != '\0') return env;
  for (const char* place : {"", "../libexec/weft/"}) {
    const std::string here =
        beside_self(std::string(place) + "libweft_alloc_recorder.so");
    if (!here.empty()) return here;
  }
#ifdef WEFT_ALLOC_RECORDER_PATH
  return WEFT_ALLOC_RECORDER_PATH;
#else
  return "libweft_alloc_recorder.so";
#endif
}

// Runs the program under the recorder; its exit status.
int record_command(const AllocCommand& c) {
  const std::string recorder = recorder_library();
  if (access(recorder.c_str(), R_OK) != 0)
    throw std::runtime_error("cannot find the recorder library " + recorder +
                             " (set WEFT_ALLOC_RECORDER)");
  // Find out that the log cannot be written before running the program,
  // and leave what is there until the program logs its first call: a
  // program that cannot be run, or logs nothing, replaces nothing.
  check_writable(c.output);
  traces::refuse_overwriting(c.program[0], c.output, "program");
  const RecordResult r =
      record_program(absolute(c.output), c.program, c.children, recorder);
  const int rc = r.status;
  if (!r.logged) {
    // 127: the child already said it could not run the program.
    if (rc != 127)
      std::cerr << "weft alloc record: " << c.program[0]
                << " wrote no log (is it statically linked, or setuid?)\n";
    return rc != 0 ? rc : 1;
  }
  std::cerr << "weft alloc record: " << r.calls << " allocator calls in "
            << c.output << " (program exit status " << rc << ")\n";
  if (r.lost != 0)
    std::cerr << "weft alloc record: " << r.lost
              << (r.lost == 1 ? " call" : " calls")
              << " lost: in flight when the program died (begun, not "
                 "returned: sequence gaps in the log)\n";
  if (!r.error.empty())
    std::cerr << "weft alloc record: the log stopped being written: " << r.error
              << "; " << r.unwritten << " calls not written\n";
  if (c.children)
    std::cerr << "weft alloc record: the children's logs are " << c.output
              << ".<pid>\n";
  return rc != 0 ? rc : (r.error.empty() ? 0 : 2);
}

// What replay and compare read: a slots log as it is; a calls log (or an
// mtrace log or heaptrack file) converted on the way, streaming, into a
// temporary slots log that goes when this does. A log that lost calls is
// refused, as a cut slots log is: convert it to see what was lost.
class SlotsInput {
 public:
  explicit SlotsInput(const std::string& input) : path_(input) {
    try {
      auto reader = traces::TraceReader::open(input);
      const auto& h = reader.header();
      if (h.kind != traces::TraceKind::kAllocLog || h.get("form") == "slots") {
        require_form(input, h, "slots");  // says what else it is
        return;
      }
    } catch (const traces::TraceError&) {
      // Not a weft file: convert reads mtrace and heaptrack, and says what
      // is wrong with anything else, with the byte offset.
    }
    convert_on_the_way(input);
  }
  ~SlotsInput() {
    if (!temp_.empty()) std::remove(temp_.c_str());
  }
  SlotsInput(const SlotsInput&) = delete;
  SlotsInput& operator=(const SlotsInput&) = delete;
  const std::string& path() const { return path_; }

 private:
  void convert_on_the_way(const std::string& input) {
    const char* dir = std::getenv("TMPDIR");
    std::string name =
        std::string(dir && *dir ? dir : "/tmp") + "/weft-slots-XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot create a temporary slots log " + name);
    ::close(fd);
    temp_ = path_ = name;
    ConvertStats stats;
    try {
      stats = convert(input, temp_, {});
      if (!stats.losses.empty())
        throw std::invalid_argument(
            input + ": " + stats.losses.front() +
            ": run `weft alloc convert` on it to see what was lost, and "
            "replay the slots log it writes");
    } catch (...) {
      std::remove(temp_.c_str());  // the destructor will not run
      throw;
    }
    std::cerr << "weft alloc: converted " << input
              << " to slots on the way: " << stats.operations << " operations, "
              << stats.peak_live << " slots\n";
  }
  std::string path_;
  std::string temp_;
};

int run_alloc_command(const AllocCommand& c) {
  try {
    if (c.record->parsed()) return record_command(c);
    if (c.generate->parsed()) return generate_command(c);
    if (c.import->parsed()) {
      std::vector<std::string> losses;
      const std::uint64_t n = import_log(c.input, c.output, &losses);
      std::cout << "imported " << n << " allocator calls into " << c.output
                << "\n"
                << std::flush;
      for (const auto& line : losses)
        std::cerr << "weft alloc import: " << line << "\n";
      return losses.empty() ? 0 : traces::kExitLosses;
    }
    if (c.convert->parsed()) {
      ConvertOptions options;
      options.strict = c.strict;
      if (isatty(2))
        options.progress = [](std::uint64_t calls) {
          std::cerr << "\rconverted " << (calls >> 20) << "M calls"
                    << std::flush;
        };
      const ConvertStats stats = convert(c.input, c.output, options);
      if (isatty(2) && stats.calls >= (1u << 20)) std::cerr << "\n";
      print_stats(stats, std::cout);
      std::cout << std::flush;
      // Read with losses: the slots log holds what could be read.
      for (const auto& line : stats.losses)
        std::cerr << "weft alloc convert: " << line << "\n";
      if (!stats.losses.empty())
        std::cerr << "weft alloc convert: converted the calls that could "
                     "be read into "
                  << c.output << "\n";
      return stats.losses.empty() ? 0 : traces::kExitLosses;
    }
    ReplayOptions options;
    options.check = !c.no_check;
    options.ordered = c.ordered;
    options.timed = c.timed;
    options.samples = c.samples;
    if (c.timed && c.no_check) {
      std::cerr << "weft alloc: --timed samples live bytes over time, which "
                   "only checked replays track: drop --no-check or --timed\n";
      return 2;
    }
    // Fail early, with the file and offset, rather than in the child.
    const SlotsInput slots(c.input);
    if (c.replay->parsed()) {
      allocator_library(c.allocator);  // an unknown name: exit 2 here
      const ReplayResult r =
          replay_in_child(slots.path(), c.allocator, options);
      if (r.bad_input) {  // the log's fault, found as the child read it
        std::cerr << "weft alloc: " << r.failure << "\n";
        return 2;
      }
      print_report(r, std::cout);
      return r.ok() ? 0 : 1;
    }
    if (c.compare->parsed()) {
      if (c.no_check && !c.html.empty()) {
        std::cerr << "weft alloc compare: --html plots live bytes and RSS "
                     "over the replay, which only checked runs sample; "
                     "drop --no-check or --html\n";
        return 2;
      }
      // Every name is checked, and the outputs are written after every
      // replay: find a bad one before the first. The outputs start as
      // temporary files, renamed into place only when complete.
      for (const auto& a : c.allocators) allocator_library(a);
      for (const std::string* out : {&c.csv, &c.html}) {
        if (out->empty()) continue;
        traces::refuse_overwriting(c.input, *out, "log");
        for (const auto& a : c.allocators)
          traces::refuse_overwriting(a, *out, "allocator");
      }
      std::optional<traces::AtomicFile> csv, html;
      if (!c.csv.empty()) csv.emplace(c.csv);
      if (!c.html.empty()) html.emplace(c.html);
      std::vector<ReplayResult> results;
      for (const auto& a : c.allocators) {
        if (isatty(2)) std::cerr << "replaying under " << a << "...\n";
        results.push_back(replay_in_child(slots.path(), a, options));
        if (results.back().bad_input) {
          std::cerr << "weft alloc: " << results.back().failure << "\n";
          return 2;
        }
      }
      print_comparison(results, std::cout);
      std::string name = c.input.substr(c.input.rfind('/') + 1);
      if (csv) {
        std::ostringstream f;
        write_benchres(name, results, f);
        csv->write(f.str());
        csv->commit();
        std::cout << "wrote " << c.csv << "\n";
      }
      if (html) {
        std::ostringstream f;
        write_plot("weft alloc compare: " + name, results, f);
        html->write(f.str());
        html->commit();
        std::cout << "wrote " << c.html << "\n";
      }
      bool ok = true;
      for (const auto& r : results) ok = ok && r.ok();
      return ok ? 0 : 1;
    }
  } catch (const traces::TraceError& e) {
    std::cerr << "weft alloc: " << e.what() << "\n";
    return 2;
  } catch (const ConvertError& e) {
    std::cerr << "weft alloc convert --strict: " << c.input << ": "
              << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "weft alloc: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace weft::replay
