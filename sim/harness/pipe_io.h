// Whole-buffer reads and writes on a pipe between a parent and the child
// it forked (crash containment, WEFT_JOBS): both retry after EINTR; a
// write stops quietly at a closed pipe (the parent reads what came).
#pragma once

#include <string>

namespace weft::sim::internal {

void write_all(int fd, const std::string& bytes);
// Everything from the descriptor's position until end of file (or an
// error): a pipe's, or a file's (weft run's captured output).
std::string read_all(int fd);

}  // namespace weft::sim::internal
