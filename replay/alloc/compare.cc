#include "replay/alloc/compare.h"

#include <algorithm>
#include <cstdio>

#include "replay/alloc/number_text.h"

namespace weft::replay {
namespace {

std::string ratio(double v, double base) {
  if (base <= 0 || v <= 0) return "    -";
  return number_text("%5.2fx", v / base);
}

// Checked runs: fragmentation over the run and the spread of the series'
// per-window p99 latency (the whole series is in --html).
void print_over_the_run(const std::vector<ReplayResult>& results,
                        std::ostream& out) {
  char line[512];
  std::snprintf(line, sizeof line, "%-12s %9s %9s %12s %12s\n", "over the run",
                "frag max", "frag end", "p99 ns, min", "p99 ns, max");
  out << line;
  for (const auto& r : results) {
    if (!r.failure.empty()) continue;
    double lo = 0, hi = 0;
    for (const Sample& s : r.series)
      if (s.p99_ns > 0) {
        lo = lo == 0 ? s.p99_ns : std::min(lo, s.p99_ns);
        hi = std::max(hi, s.p99_ns);
      }
    const std::string end = r.final_live * 10 >= r.peak_live && r.final_live > 0
                                ? number_text("%9.2f", r.end_fragmentation())
                                : std::string(8, ' ') + "-";
    std::snprintf(line, sizeof line, "%-12s %9.2f %s %12.0f %12.0f\n",
                  r.allocator.substr(0, 12).c_str(), r.max_fragmentation,
                  end.c_str(), lo, hi);
    out << line;
  }
}

}  // namespace

void print_comparison(const std::vector<ReplayResult>& results,
                      std::ostream& out) {
  if (results.empty()) return;
  const ReplayResult& base = results[0];
  out << "mode: " << base.mode
      << (base.mode == "fast" ? " (one thread, global order)"
                              : " (one thread per recorded thread)")
      << ", checks " << (base.checked ? "on" : "off") << "; ratios are to "
      << base.allocator << "\n";
  char line[512];
  std::snprintf(line, sizeof line,
                "%-12s %12s %7s %10s %7s %10s %7s %9s %10s %7s %6s\n",
                "allocator", "ops/s", "ratio", "peak MiB", "ratio", "final MiB",
                "ratio", "frag", "p99 malloc", "ratio", "errors");
  out << line;
  const int m = static_cast<int>(AllocCall::kMalloc);
  for (const auto& r : results) {
    if (!r.failure.empty()) {
      out << r.allocator << ": FAILED: " << r.failure << "\n";
      continue;
    }
    std::snprintf(
        line, sizeof line,
        "%-12s %12.0f %7s %10.2f %7s %10.2f %7s %9.2f %10.0f %7s %6llu\n",
        r.allocator.substr(0, 12).c_str(), r.ops_per_second(),
        ratio(r.ops_per_second(), base.ops_per_second()).c_str(),
        in_mib(r.peak_rss),
        ratio(static_cast<double>(r.peak_rss),
              static_cast<double>(base.peak_rss))
            .c_str(),
        in_mib(r.final_rss),
        ratio(static_cast<double>(r.final_rss),
              static_cast<double>(base.final_rss))
            .c_str(),
        r.fragmentation(), r.latency[m].p99,
        ratio(r.latency[m].p99, base.latency[m].p99).c_str(),
        static_cast<unsigned long long>(r.error_count));
    out << line;
  }
  if (base.checked) print_over_the_run(results, out);
}

void write_benchres(const std::string& benchmark,
                    const std::vector<ReplayResult>& results,
                    std::ostream& out) {
  out << "# benchmark allocator elapsed rss user sys page-faults "
         "page-reclaims\n";
  for (const auto& r : results) {
    if (!r.failure.empty()) continue;
    char line[512];
    std::snprintf(line, sizeof line, "%s %s %.3f %llu %.2f %.2f %llu %llu\n",
                  benchmark.c_str(), r.allocator.c_str(), r.seconds,
                  static_cast<unsigned long long>(r.peak_rss / 1024),
                  r.user_seconds, r.sys_seconds,
                  static_cast<unsigned long long>(r.page_faults),
                  static_cast<unsigned long long>(r.page_reclaims));
    out << line;
  }
}

}  // namespace weft::replay
