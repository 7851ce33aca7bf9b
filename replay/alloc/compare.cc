#include "replay/alloc/compare.h"

#include <algorithm>
#include <cstdio>

namespace weft::replay {
namespace {

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string ratio(double v, double base) {
  if (base <= 0 || v <= 0) return "    -";
  return format("%5.2fx", v / base);
}

double mib(std::uint64_t b) { return static_cast<double>(b) / 1048576.0; }

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
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
        mib(r.peak_rss),
        ratio(static_cast<double>(r.peak_rss),
              static_cast<double>(base.peak_rss))
            .c_str(),
        mib(r.final_rss),
        ratio(static_cast<double>(r.final_rss),
              static_cast<double>(base.final_rss))
            .c_str(),
        r.fragmentation(), r.latency[m].p99,
        ratio(r.latency[m].p99, base.latency[m].p99).c_str(),
        static_cast<unsigned long long>(r.error_count));
    out << line;
  }
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

void write_plot(const std::string& title,
                const std::vector<ReplayResult>& results, std::ostream& out) {
  static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                  "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  const double w = 900, h = 420, left = 80, right = 20, top = 20, bottom = 50;
  std::uint64_t max_op = 1, max_bytes = 1;
  for (const auto& r : results)
    for (const auto& s : r.series) {
      max_op = std::max(max_op, s.op);
      max_bytes = std::max({max_bytes, s.live_bytes, s.rss_bytes});
    }
  auto x = [&](std::uint64_t op) {
    return left + (w - left - right) * static_cast<double>(op) /
                      static_cast<double>(max_op);
  };
  auto y = [&](std::uint64_t b) {
    return h - bottom -
           (h - top - bottom) * static_cast<double>(b) /
               static_cast<double>(max_bytes);
  };
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
      << escape(title)
      << "</title>\n<style>body{font-family:sans-serif;margin:2em}"
         "table{border-collapse:collapse}td,th{padding:2px 8px;"
         "text-align:right}</style></head><body>\n<h1>"
      << escape(title) << "</h1>\n<p>Live requested bytes (dashed) and RSS "
      << "above the replayer's own (solid) over the operation index.</p>\n";
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w
      << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << " " << h
      << "\">\n<rect x=\"0\" y=\"0\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"white\"/>\n";
  // Axes and ticks.
  out << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\""
      << w - right << "\" y2=\"" << h - bottom << "\" stroke=\"black\"/>\n"
      << "<line x1=\"" << left << "\" y1=\"" << top << "\" x2=\"" << left
      << "\" y2=\"" << h - bottom << "\" stroke=\"black\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const std::uint64_t b = max_bytes * static_cast<std::uint64_t>(i) / 4;
    const std::uint64_t op = max_op * static_cast<std::uint64_t>(i) / 4;
    out << "<text x=\"" << left - 6 << "\" y=\"" << y(b) + 4
        << "\" font-size=\"11\" text-anchor=\"end\">"
        << format("%.1f MiB", mib(b)) << "</text>\n"
        << "<text x=\"" << x(op) << "\" y=\"" << h - bottom + 16
        << "\" font-size=\"11\" text-anchor=\"middle\">" << op << "</text>\n";
  }
  out << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 12
      << "\" font-size=\"12\" text-anchor=\"middle\">operation</text>\n";
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    const char* colour = colours[k % 8];
    std::string live, rss;
    for (const auto& s : r.series) {
      live += format("%.1f,", x(s.op)) + format("%.1f ", y(s.live_bytes));
      rss += format("%.1f,", x(s.op)) + format("%.1f ", y(s.rss_bytes));
    }
    out << "<polyline class=\"rss\" data-allocator=\"" << escape(r.allocator)
        << "\" fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" "
        << "points=\"" << rss << "\"/>\n"
        << "<polyline class=\"live\" data-allocator=\"" << escape(r.allocator)
        << "\" fill=\"none\" stroke=\"" << colour
        << "\" stroke-dasharray=\"4 3\" points=\"" << live << "\"/>\n"
        << "<text x=\"" << left + 10 << "\" y=\"" << top + 14 * (k + 1)
        << "\" font-size=\"12\" fill=\"" << colour << "\">"
        << escape(r.allocator) << "</text>\n";
  }
  out << "</svg>\n<table><tr><th>allocator</th><th>ops/s</th><th>peak RSS "
         "MiB</th><th>final RSS MiB</th><th>peak live MiB</th>"
         "<th>fragmentation</th><th>errors</th></tr>\n";
  for (const auto& r : results)
    out << "<tr><td>" << escape(r.allocator) << "</td><td>"
        << format("%.0f", r.ops_per_second()) << "</td><td>"
        << format("%.2f", mib(r.peak_rss)) << "</td><td>"
        << format("%.2f", mib(r.final_rss)) << "</td><td>"
        << format("%.2f", mib(r.peak_live)) << "</td><td>"
        << format("%.2f", r.fragmentation()) << "</td><td>"
        << (r.failure.empty() ? std::to_string(r.error_count) : "failed")
        << "</td></tr>\n";
  out << "</table>\n</body></html>\n";
}

}  // namespace weft::replay
