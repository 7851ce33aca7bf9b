// Whole-buffer reads and writes on a pipe between a parent and the child
// it forked (crash containment, WEFT_JOBS): both retry after EINTR; a
// write stops quietly at a closed pipe (the parent reads what came).
#pragma once

#include <string>

namespace weft::sim::internal {

void write_all(int fd, const std::string& bytes);
// Everything until end of file (or an error).
std::string read_all(int fd);

}  // namespace weft::sim::internal
