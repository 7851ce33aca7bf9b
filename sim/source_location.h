// Where a blocking call or failure happened, captured by default arguments.
// std::source_location is not usable with clang 14 on libstdc++ 12, so weft
// uses the builtins both compilers provide.
#pragma once

#include <string>

namespace weft::sim {

struct SourceLocation {
  const char* file = "";
  unsigned line = 0;

  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          unsigned line = __builtin_LINE()) {
    return SourceLocation{file, line};
  }

  std::string to_string() const {
    return line == 0 ? std::string("unknown location")
                     : std::string(file) + ":" + std::to_string(line);
  }
};

}  // namespace weft::sim
