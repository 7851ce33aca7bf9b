// The weft command.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "replay/cli/alloc_command.h"
#include "replay/cli/demos.h"
#include "replay/cli/replay_command.h"
#include "replay/cli/run_command.h"
#include "replay/cli/unsigned_check.h"
#include "replay/trace_command.h"
#include "sim/harness/explore.h"

namespace {

int run_demo(const std::string& name, std::uint64_t iterations) {
  const weft::replay::Demo* demo = weft::replay::find_demo(name);
  if (demo == nullptr) {
    std::cerr << "weft demo: no example named '" << name << "'. Examples:\n";
    for (const auto& d : weft::replay::demos())
      std::cerr << "  " << d.name << "  " << d.summary << "\n";
    return 2;
  }
  std::cout << "weft demo " << demo->name << ": " << demo->summary << std::endl;
  weft::sim::ExploreOptions options;
  options.iterations = iterations;
  options.command = weft::sim::this_program("weft") + " demo " + demo->name;
  options.name = "demo-" + demo->name;
  weft::sim::ExploreResult r;
  try {
    r = weft::sim::explore(options, demo->body);
  } catch (const weft::sim::ConfigError& e) {
    std::cerr << "weft: " << e.what() << "\n";
    return 2;
  }
  // The demo's job is to show a bug being found: finding it is success,
  // but a replay that left its schedule (WEFT_REPLAY of another or a
  // damaged schedule) found nothing.
  if (r.failed() &&
      r.failure->kind == weft::sim::FailureKind::kReplayDivergence) {
    std::cout << "weft: the replay diverged from its schedule: nothing "
                 "was reproduced\n";
    return 1;
  }
  if (!r.failed()) {
    std::cout << "weft: no failure in " << r.schedules
              << " schedules: the demo expected one\n";
    return 1;
  }
  if (!r.trace_path.empty())
    std::cout << "look at it on a timeline:\n  "
              << weft::sim::this_program("weft")
              << " trace export --format html "
              << weft::sim::shell_quote(r.trace_path)
              << "\n  (or --format perfetto for ui.perfetto.dev)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft: run concurrent code deterministically"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("weft ") + WEFT_VERSION);
  app.footer(
      "Exit status: 0 done, 1 a failure found, 2 a usage error or input "
      "that cannot be read, 3 a damaged file read with losses (what could "
      "be read was).");

  auto* demo = app.add_subcommand(
      "demo",
      "Explore a built-in example with a concurrency bug and print "
      "the failure and the command that replays it");
  std::string name = "lost-update";
  std::uint64_t iterations = 1000;
  demo->add_option("example", name, "Which example (see --list)")
      ->capture_default_str();
  demo->add_option("-n,--iterations", iterations,
                   "Schedules to try (WEFT_ITERATIONS overrides)")
      ->check(weft::replay::unsigned_check(1))
      ->capture_default_str();
  bool list = false;
  demo->add_flag("--list", list, "List the examples");

  auto* trace = app.add_subcommand(
      "trace", "Print, summarise, verify and export weft trace files");
  trace->require_subcommand(1);
  std::string file;
  auto* show = trace->add_subcommand(
      "show", "Print a trace's header and records, one per line");
  weft::replay::ShowOptions show_options;
  show->add_option("file", file, "The trace file")->required();
  show->add_option("-n,--limit", show_options.limit,
                   "Print at most this many records (0: all)")
      ->check(weft::replay::unsigned_check())
      ->capture_default_str();
  show->add_flag("--forced", show_options.forced,
                 "Also print picks that had a single alternative");
  auto* stat = trace->add_subcommand(
      "stat",
      "Count records and choices; bytes per choice against the entropy "
      "bound (sum of log2 of the alternatives)");
  stat->add_option("file", file, "The trace file")->required();
  auto* verify = trace->add_subcommand(
      "verify",
      "Check every frame's checksum and sequence; exit 0 if whole, 3 if "
      "frames were lost (cut short or damaged: the complete frames still "
      "read, and what was lost is listed), 2 if it is foreign or "
      "unreadable");
  verify->add_option("file", file, "The trace file")->required();
  auto* exp = trace->add_subcommand(
      "export",
      "Write a timeline: Chrome/Perfetto trace-event JSON or a "
      "self-contained HTML page");
  std::string format = "perfetto";
  std::string output;
  exp->add_option("file", file, "The trace file")->required();
  exp->add_option("-f,--format", format, "perfetto or html")
      ->check(CLI::IsMember({"perfetto", "html"}))
      ->capture_default_str();
  exp->add_option("-o,--output", output,
                  "Output file ('-' for stdout; default: the trace's name "
                  "with .json or .html)");

  auto* replay = app.add_subcommand(
      "replay",
      "Run again what a trace recorded: for a schedule trace, the command "
      "it names, with WEFT_REPLAY set to the file (exits with its status). "
      "The command is run by /bin/sh as the trace gives it: replay only "
      "traces you trust (`weft trace show FILE -n 1` prints the command in "
      "its header)");
  std::string replay_file;
  replay->add_option("file", replay_file, "The trace file")->required();

  const auto alloc = weft::replay::add_alloc_command(app);
  const auto run = weft::replay::add_run_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // `weft trace bogus`: CLI11 says only that a command is required.
    for (const CLI::App* sub : app.get_subcommands()) {
      const auto left = sub->remaining();
      if (sub->get_require_subcommand_min() > 0 &&
          sub->get_subcommands().empty() && !left.empty()) {
        std::cerr << "weft " << sub->get_name() << ": no command '"
                  << left.front() << "' (`weft " << sub->get_name()
                  << " --help` lists them)\n";
        return 2;
      }
    }
    // CLI11's own codes (105, 106, ...) mean nothing to a script: a usage
    // error is 2, and asking for --help or --version is not an error.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (app.get_subcommands().empty()) {  // `weft` alone: what it can do
    std::cout << app.help();
    return 0;
  }
  if (run->run->parsed()) return weft::replay::run_run_command(*run);
  if (weft::replay::alloc_parsed(*alloc))
    return weft::replay::run_alloc_command(*alloc);
  if (replay->parsed()) return weft::replay::replay_trace(replay_file);
  if (show->parsed())
    return weft::replay::trace_show(file, show_options, std::cout);
  if (stat->parsed()) return weft::replay::trace_stat(file, std::cout);
  if (verify->parsed()) return weft::replay::trace_verify(file, std::cout);
  if (exp->parsed())
    return weft::replay::trace_export(file, format, output, std::cout);
  if (demo->parsed()) {
    if (list) {
      for (const auto& d : weft::replay::demos())
        std::cout << d.name << "  " << d.summary << "\n";
      return 0;
    }
    return run_demo(name, iterations);
  }
  return 0;
}
