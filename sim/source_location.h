// Where a blocking call or failure happened, captured by default arguments.
// std::source_location is not usable with clang 14 on libstdc++ 12, so weft
// uses the builtins both compilers provide.
#pragma once

#include <string>

namespace weft::sim {

// A location with line 0 and a non-empty `file` is described in words
// instead (sim/intercept's callers: a function and an address in a file).
struct SourceLocation {
  const char* file = "";
  unsigned line = 0;

  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          unsigned line = __builtin_LINE()) {
    return SourceLocation{file, line};
  }

  std::string to_string() const {
    if (line != 0) return std::string(file) + ":" + std::to_string(line);
    return *file != '\0' ? std::string(file) : std::string("unknown location");
  }
};

}  // namespace weft::sim
