// `weft run [--replay FILE] -- ./program args`: explores an existing,
// dynamically linked program with weft's interposer preloaded (replay/run):
// its main is the first strand, each schedule a fork of the program taken
// at the start of main. Checks the program first (there, an ELF file with
// an interpreter) so bad input is a message and status 2, never a hang.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace weft::replay {

struct RunCommand {
  CLI::App* run = nullptr;
  std::string replay;             // --replay FILE (WEFT_REPLAY)
  std::vector<std::string> argv;  // the program and its arguments
};

std::shared_ptr<RunCommand> add_run_command(CLI::App& app);
// Runs it; returns the exit status (0 pass, 1 failure, 2 bad input).
int run_run_command(const RunCommand& command);

}  // namespace weft::replay
