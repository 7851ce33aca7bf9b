// How compare's table (compare.cc) and its HTML page (compare_page.cc)
// write numbers, shared by those two files only, not an interface: one
// double through a printf format, and bytes as MiB.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace weft::replay {

inline std::string number_text(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

inline double in_mib(std::uint64_t b) {
  return static_cast<double>(b) / 1048576.0;
}

}  // namespace weft::replay
