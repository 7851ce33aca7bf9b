#include "replay/alloc/measure.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace weft::replay::internal {
namespace {

inline double bucket_value(int i) {
  if (i < 32) return i;
  const int m = (i - 32) / 32 + 5;
  const int sub = (i - 32) % 32;
  return std::ldexp(32.0 + sub + 0.5, m - 5);
}

}  // namespace

double coarse_value(int i) {
  if (i < 8) return i;
  const int m = i / 8;
  return std::ldexp(8.0 + (i % 8) + 0.5, m - 3);
}

Series::Series(std::uint32_t n)
    : cap_(2 * std::max<std::size_t>(n, 2)),
      points_(cap_ + 1),
      sums_(cap_ + 1) {}

bool Series::add(Sample s, const Histograms* threads, std::uint32_t nthreads,
                 bool last) {
  Cumulative& sum = sums_[n_];
  sum.fill(0);
  for (std::uint32_t t = 0; t < nthreads; ++t)
    for (int k = 0; k < kCoarse; ++k)
      sum[k] += threads[t].coarse[k].load(std::memory_order_relaxed);
  points_[n_++] = s;
  if (n_ < cap_ || last) return false;
  // Keep the even ones: still evenly spaced, at twice the spacing.
  for (std::size_t i = 0; 2 * i < n_; ++i) {
    points_[i] = points_[2 * i];
    sums_[i] = sums_[2 * i];
  }
  n_ = (n_ + 1) / 2;
  return true;
}

namespace {

// The value below which a fraction q of the window's calls fell, in ticks.
double window_quantile(const std::array<std::uint64_t, kCoarse>& now,
                       const std::array<std::uint64_t, kCoarse>* before,
                       double q) {
  std::uint64_t total = 0;
  for (int k = 0; k < kCoarse; ++k)
    total += now[k] - (before != nullptr ? (*before)[k] : 0);
  if (total == 0) return 0;
  std::uint64_t seen = 0;
  for (int k = 0; k < kCoarse; ++k) {
    seen += now[k] - (before != nullptr ? (*before)[k] : 0);
    if (static_cast<double>(seen) >= q * static_cast<double>(total))
      return coarse_value(k);
  }
  return coarse_value(kCoarse - 1);
}

}  // namespace

std::vector<Sample> Series::finish(double ns_per_tick) const {
  std::vector<Sample> out(points_.data(), points_.data() + n_);
  for (std::size_t i = 0; i < n_; ++i) {
    const auto* before = i == 0 ? nullptr : &sums_[i - 1];
    out[i].p50_ns = window_quantile(sums_[i], before, 0.5) * ns_per_tick;
    out[i].p99_ns = window_quantile(sums_[i], before, 0.99) * ns_per_tick;
  }
  return out;
}

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
