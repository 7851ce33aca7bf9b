// Runs this test binary again in a child process (other addresses, other
// ASLR layout) and reads back one number it prints: the way tests check
// that something holds across processes, not just within one.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

namespace weft::sim::testing {

// Runs `<env> <this binary> --gtest_filter=<filter>` and returns the value
// of the last line of the form "<key>=<number>", or nullopt if the child
// printed none or exited non-zero.
inline std::optional<unsigned long long> run_child_and_read(
    const std::string& env, const std::string& filter, const std::string& key) {
  const std::string cmd = env + " /proc/" + std::to_string(getpid()) +
                          "/exe --gtest_filter=" + filter + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  char line[256];
  std::optional<unsigned long long> value;
  const std::string prefix = key + "=";
  while (std::fgets(line, sizeof line, p) != nullptr) {
    const std::string s(line);
    if (s.rfind(prefix, 0) == 0) value = std::stoull(s.substr(prefix.size()));
  }
  if (pclose(p) != 0) return std::nullopt;
  return value;
}

}  // namespace weft::sim::testing
