// Runs a program with a shell command line and collects what it printed
// (stdout and stderr together) and its exit status: how flight_test drives
// the recorded programs and the weft command.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace weft::flight_test {

struct Ran {
  int status = -1;  // the exit status, or 128 + the signal
  std::string output;
};

inline Ran run_program(const std::string& command) {
  Ran r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The flight recordings in `dir`, by name.
inline std::vector<std::string> recordings(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("weft-flight-", 0) == 0)
      out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A fresh directory under the build's temporary directory.
inline std::string fresh_dir(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("weft-flight-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace weft::flight_test
