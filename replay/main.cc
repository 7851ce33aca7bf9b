// The weft command.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "replay/demos.h"
#include "sim/explore.h"

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
  weft::sim::ExploreResult r;
  try {
    r = weft::sim::explore(options, demo->body);
  } catch (const weft::sim::ConfigError& e) {
    std::cerr << "weft: " << e.what() << "\n";
    return 2;
  }
  // The demo's job is to show a bug being found: finding it is success.
  if (!r.failed()) {
    std::cout << "weft: no failure in " << r.schedules
              << " schedules: the demo expected one\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"weft: run concurrent code deterministically"};
  app.require_subcommand(1);

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
      ->capture_default_str();
  bool list = false;
  demo->add_flag("--list", list, "List the examples");

  CLI11_PARSE(app, argc, argv);
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
