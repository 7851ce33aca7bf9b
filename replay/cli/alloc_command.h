// `weft alloc`: record, import, convert, replay and compare allocator logs.
// The subcommands are declared here on a CLI11 app and run after parsing;
// the work itself lives in alloc_convert, alloc_import, alloc_replay and
// alloc_compare.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

namespace weft::replay {

struct AllocCommand;

// Adds `alloc` and its subcommands to `app`.
std::shared_ptr<AllocCommand> add_alloc_command(CLI::App& app);

// True if the command line chose `weft alloc ...`.
bool alloc_parsed(const AllocCommand& command);

// Runs the chosen subcommand; returns the exit status.
int run_alloc_command(const AllocCommand& command);

// The LD_PRELOAD recorder: $WEFT_ALLOC_RECORDER, else beside the running
// program or in ../libexec/weft/ from it (an installed `weft`), else the
// build tree's.
std::string recorder_library();

}  // namespace weft::replay
