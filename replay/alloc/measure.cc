#include "replay/alloc/measure.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace weft::replay::internal {
namespace {

inline double bucket_value(int i) {
  if (i < 32) return i;
  const int m = (i - 32) / 32 + 5;
  const int sub = (i - 32) % 32;
  return std::ldexp(32.0 + sub + 0.5, m - 5);
}

}  // namespace

std::uint64_t current_rss() {
  static const long page = sysconf(_SC_PAGESIZE);
  char buf[128];
  const int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(buf, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(page);
}

std::uint64_t peak_rss() {  // VmHWM
  char buf[4096];
  const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strstr(buf, "VmHWM:");
  if (p == nullptr) return 0;
  return std::strtoull(p + 6, nullptr, 10) * 1024;
}

bool reset_peak_rss() {
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

Latency percentiles(const std::uint64_t* counts, double ns_per_tick) {
  Latency l;
  for (int i = 0; i < kBuckets; ++i) l.count += counts[i];
  if (l.count == 0) return l;
  const double qs[4] = {0.5, 0.9, 0.99, 0.999};
  double* outs[4] = {&l.p50, &l.p90, &l.p99, &l.p999};
  int q = 0;
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (counts[i] == 0) continue;
    seen += counts[i];
    while (q < 4 &&
           static_cast<double>(seen) >= qs[q] * static_cast<double>(l.count)) {
      *outs[q] = bucket_value(i) * ns_per_tick;
      ++q;
    }
    l.max = bucket_value(i) * ns_per_tick;
  }
  return l;
}

}  // namespace weft::replay::internal
