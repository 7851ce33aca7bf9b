// Where a blocking call or failure happened, captured by default arguments.
// std::source_location is not usable with clang 14 on libstdc++ 12, so weft
// uses the builtins both compilers provide.
#pragma once

#include <string>

namespace weft::sim {

struct SourceLocation {
  const char* file = "";
  unsigned line = 0;
  // Without a line: a return address in code weft did not build (an
  // interposed call's caller, sim/intercept), described only when shown
  // by `describe_code`, which sim/intercept installs.
  const void* code = nullptr;

  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          unsigned line = __builtin_LINE()) {
    return SourceLocation{file, line};
  }

  std::string to_string() const {
    if (line != 0) return std::string(file) + ":" + std::to_string(line);
    if (code != nullptr && describe_code != nullptr)
      if (std::string d = describe_code(code); !d.empty()) return d;
    return "unknown location";
  }

  static inline std::string (*describe_code)(const void* code) = nullptr;
};

}  // namespace weft::sim
