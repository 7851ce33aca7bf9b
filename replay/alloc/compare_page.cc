// The HTML page of `weft alloc compare --html` (write_plot in compare.h):
// the terminal's table with its ratio columns, then three SVG charts drawn
// here, with no script: memory (live requested bytes and RSS over the
// operation index), throughput (operations per second, as bars with their
// ratio to the first allocator), latency (per call, each allocator's
// p50, p90 and p99 on a log scale) and, over the replay's time, RSS and
// live bytes and each window's latency p50 and p99. Axis ticks fall on round
// numbers (1, 2 or 5 times a power of ten) and carry their unit.
#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "replay/alloc/compare.h"
#include "replay/alloc/log.h"
#include "replay/alloc/number_text.h"

namespace weft::replay {
namespace {

const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

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

// A tick spacing of 1, 2 or 5 times a power of ten, near max / n.
double nice_step(double max, int n) {
  const double raw = std::max(max, 1e-9) / n;
  const double p10 = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p10 >= raw) return m * p10;
  return 10 * p10;
}

// The unit an axis up to `top` bytes is labelled in: 1, 1024, 1024^2...
double byte_unit(double top) {
  double scale = 1;
  for (int u = 0; u < 3 && top >= 1024 * scale; ++u) scale *= 1024;
  return scale;
}

// "0", "512 KiB", "1.5 MiB": bytes in the unit of the axis's top.
std::string bytes_label(double b, double top) {
  const double scale = byte_unit(top);
  const char* unit = scale == 1           ? "B"
                     : scale == 1024      ? "KiB"
                     : scale == 1048576.0 ? "MiB"
                                          : "GiB";
  if (b == 0) return "0";
  return number_text("%.3g ", b / scale) + unit;
}

// "0", "250k", "1.5M".
std::string count_label(double n) {
  if (n >= 1e6) return number_text("%.3gM", n / 1e6);
  if (n >= 1e3) return number_text("%.3gk", n / 1e3);
  return number_text("%.0f", n);
}

// "20 ns", "1.5 us", "3 ms".
std::string ns_label(double ns) {
  if (ns >= 1e6) return number_text("%.3g ms", ns / 1e6);
  if (ns >= 1e3) return number_text("%.3g us", ns / 1e3);
  return number_text("%.3g ns", ns);
}

std::string ratio_text(double v, double base) {
  if (base <= 0 || v <= 0) return "-";
  return number_text("%.2fx", v / base);
}

struct Frame {
  double w, h, left, right, top, bottom;
  double x0() const { return left; }
  double x1() const { return w - right; }
  double y0() const { return h - bottom; }  // the axis
  double y1() const { return top; }
};

void open_svg(std::ostream& out, const char* id, const Frame& f) {
  out << "<svg class=\"chart\" id=\"" << id
      << "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f.w
      << "\" height=\"" << f.h << "\">\n<rect width=\"" << f.w << "\" height=\""
      << f.h << "\" fill=\"white\"/>\n";
}

void memory_chart(const std::vector<ReplayResult>& results, std::ostream& out) {
  const Frame f{900, 380, 80, 20, 20, 50};
  double max_op = 1, max_bytes = 1;
  for (const auto& r : results)
    for (const auto& s : r.series) {
      max_op = std::max(max_op, static_cast<double>(s.op));
      max_bytes = std::max({max_bytes, static_cast<double>(s.live_bytes),
                            static_cast<double>(s.rss_bytes)});
    }
  // Round ticks in the unit shown (50 KiB, not 48.8).
  const double ys = nice_step(max_bytes / byte_unit(max_bytes), 5) *
                    byte_unit(max_bytes),
               xs = nice_step(max_op, 8);
  max_bytes = std::ceil(max_bytes / ys) * ys;
  max_op = std::ceil(max_op / xs) * xs;
  auto x = [&](double op) { return f.x0() + (f.x1() - f.x0()) * op / max_op; };
  auto y = [&](double b) { return f.y0() - (f.y0() - f.y1()) * b / max_bytes; };
  out << "<h2>Memory</h2>\n<p>Live requested bytes (dashed) and RSS above "
         "the replayer's own (solid) over the operation index.</p>\n";
  open_svg(out, "memory", f);
  for (double b = 0; b <= max_bytes * 1.0001; b += ys)
    out << "<line x1=\"" << f.x0() << "\" x2=\"" << f.x1() << "\" y1=\"" << y(b)
        << "\" y2=\"" << y(b) << "\" stroke=\"#eee\"/><text class=\"tick\" x=\""
        << f.x0() - 6 << "\" y=\"" << y(b) + 4
        << "\" font-size=\"11\" text-anchor=\"end\">"
        << bytes_label(b, max_bytes) << "</text>\n";
  for (double op = 0; op <= max_op * 1.0001; op += xs)
    out << "<text class=\"tick\" x=\"" << x(op) << "\" y=\"" << f.y0() + 16
        << "\" font-size=\"11\" text-anchor=\"middle\">" << count_label(op)
        << "</text>\n";
  out << "<line x1=\"" << f.x0() << "\" y1=\"" << f.y0() << "\" x2=\"" << f.x1()
      << "\" y2=\"" << f.y0() << "\" stroke=\"black\"/>\n<text x=\""
      << (f.x0() + f.x1()) / 2 << "\" y=\"" << f.h - 12
      << "\" font-size=\"12\" text-anchor=\"middle\">operation</text>\n";
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    std::string live, rss;
    for (const auto& s : r.series) {
      live += number_text("%.1f,", x(static_cast<double>(s.op))) +
              number_text("%.1f ", y(static_cast<double>(s.live_bytes)));
      rss += number_text("%.1f,", x(static_cast<double>(s.op))) +
             number_text("%.1f ", y(static_cast<double>(s.rss_bytes)));
    }
    const char* c = kColours[k % 8];
    out << "<polyline class=\"rss\" data-allocator=\"" << escape(r.allocator)
        << "\" fill=\"none\" stroke=\"" << c
        << "\" stroke-width=\"2\" points=\"" << rss
        << "\"/>\n<polyline class=\"live\" data-allocator=\""
        << escape(r.allocator) << "\" fill=\"none\" stroke=\"" << c
        << "\" stroke-dasharray=\"4 3\" points=\"" << live << "\"/>\n<text x=\""
        << f.x0() + 10 << "\" y=\"" << f.y1() + 14 * (k + 1)
        << "\" font-size=\"12\" fill=\"" << c << "\">" << escape(r.allocator)
        << "</text>\n";
  }
  out << "</svg>\n";
}

// "0", "1.5 s", "250 ms".
std::string seconds_label(double ns) {
  if (ns == 0) return "0";
  if (ns >= 1e9) return number_text("%.3g s", ns / 1e9);
  return number_text("%.3g ms", ns / 1e6);
}

// Charts over the replay's time (decoding excluded): bytes or latency
// (log scale) against time, one line or two per allocator.
class TimePlot {
 public:
  TimePlot(const std::vector<ReplayResult>& results, std::ostream& out)
      : results_(results), out_(out) {
    double lo = 1e18, hi = 1;
    for (const auto& r : results)
      for (const auto& s : r.series) {
        max_t_ = std::max(max_t_, static_cast<double>(s.time_ns));
        max_bytes_ = std::max({max_bytes_, static_cast<double>(s.live_bytes),
                               static_cast<double>(s.rss_bytes)});
        if (s.p99_ns > 0) {
          lo = std::min(lo, std::max(1.0, s.p50_ns));
          hi = std::max(hi, s.p99_ns);
        }
      }
    ys_ = nice_step(max_bytes_ / byte_unit(max_bytes_), 5) *
          byte_unit(max_bytes_);
    xs_ = nice_step(max_t_, 8);
    max_bytes_ = std::ceil(max_bytes_ / ys_) * ys_;
    max_t_ = std::ceil(max_t_ / xs_) * xs_;
    d0_ = std::floor(std::log10(std::min(lo, hi)));
    d1_ = std::max(d0_ + 1, std::ceil(std::log10(hi)));
  }
  bool empty() const { return max_t_ <= 1; }

  double x(double t) const {
    return f_.x0() + (f_.x1() - f_.x0()) * t / max_t_;
  }
  double y(double b) const {
    return f_.y0() - (f_.y0() - f_.y1()) * b / max_bytes_;
  }
  double ly(double ns) const {
    const double l = std::log10(std::max(ns, std::pow(10.0, d0_)));
    return f_.y0() - (f_.y0() - f_.y1()) * (l - d0_) / (d1_ - d0_);
  }

  void axes(const char* id, bool log_scale) {
    open_svg(out_, id, f_);
    if (log_scale)
      for (double d = d0_; d <= d1_; ++d)
        grid(ly(std::pow(10.0, d)), ns_label(std::pow(10.0, d)));
    else
      for (double b = 0; b <= max_bytes_ * 1.0001; b += ys_)
        grid(y(b), bytes_label(b, max_bytes_));
    for (double t = 0; t <= max_t_ * 1.0001; t += xs_)
      out_ << "<text class=\"tick\" x=\"" << x(t) << "\" y=\"" << f_.y0() + 16
           << "\" font-size=\"11\" text-anchor=\"middle\">" << seconds_label(t)
           << "</text>\n";
    out_ << "<line x1=\"" << f_.x0() << "\" y1=\"" << f_.y0() << "\" x2=\""
         << f_.x1() << "\" y2=\"" << f_.y0()
         << "\" stroke=\"black\"/>\n<text x=\"" << (f_.x0() + f_.x1()) / 2
         << "\" y=\"" << f_.h - 12
         << "\" font-size=\"12\" text-anchor=\"middle\">time into the "
            "replay</text>\n";
  }

  template <class F>
  void line(const char* cls, std::size_t k, bool dashed, bool busy_only,
            F value) {
    std::string pts;
    for (const auto& s : results_[k].series)
      if (!busy_only || s.p99_ns > 0)
        pts += number_text("%.1f,", x(static_cast<double>(s.time_ns))) +
               number_text("%.1f ", value(s));
    out_ << "<polyline class=\"" << cls << "\" data-allocator=\""
         << escape(results_[k].allocator) << "\" fill=\"none\" stroke=\""
         << kColours[k % 8] << "\" stroke-width=\"2\""
         << (dashed ? " stroke-dasharray=\"4 3\"" : "") << " points=\"" << pts
         << "\"/>\n";
  }

  void legend(std::size_t k) {
    out_ << "<text x=\"" << f_.x1() - 10 << "\" y=\"" << f_.y1() + 14 * (k + 1)
         << "\" font-size=\"12\" text-anchor=\"end\" fill=\"" << kColours[k % 8]
         << "\">" << escape(results_[k].allocator) << "</text>\n";
  }

 private:
  void grid(double at, const std::string& label) {
    out_ << "<line x1=\"" << f_.x0() << "\" x2=\"" << f_.x1() << "\" y1=\""
         << at << "\" y2=\"" << at
         << "\" stroke=\"#eee\"/><text class=\"tick\" x=\"" << f_.x0() - 6
         << "\" y=\"" << at + 4 << "\" font-size=\"11\" text-anchor=\"end\">"
         << label << "</text>\n";
  }

  const std::vector<ReplayResult>& results_;
  std::ostream& out_;
  const Frame f_{900, 300, 80, 20, 20, 50};
  double max_t_ = 1, max_bytes_ = 1, xs_ = 1, ys_ = 1, d0_ = 0, d1_ = 1;
};

// RSS and live bytes, then each window's latency p50 and p99, over the
// replay's time: a timed replay's idle spells show here.
void time_charts(const std::vector<ReplayResult>& results, std::ostream& out) {
  TimePlot p(results, out);
  if (p.empty()) return;
  out << "<h2>Over time</h2>\n<p>RSS above the replayer's own (solid) and "
         "live requested bytes (dashed) over the replay's time; a timed "
         "replay (<code>--timed</code>) keeps the recorded idle spells, "
         "where an allocator that purges in the background gives memory "
         "back.</p>\n";
  p.axes("memory-time", false);
  for (std::size_t k = 0; k < results.size(); ++k) {
    p.line("rss-time", k, false, false, [&](const Sample& s) {
      return p.y(static_cast<double>(s.rss_bytes));
    });
    p.line("live-time", k, true, false, [&](const Sample& s) {
      return p.y(static_cast<double>(s.live_bytes));
    });
    p.legend(k);
  }
  out << "</svg>\n<p>Latency of the calls between two points, all calls "
         "together, log scale: p99 (solid) and p50 (dashed); windows "
         "without calls are left out.</p>\n";
  p.axes("latency-time", true);
  for (std::size_t k = 0; k < results.size(); ++k) {
    p.line("p99-time", k, false, true,
           [&](const Sample& s) { return p.ly(s.p99_ns); });
    p.line("p50-time", k, true, true,
           [&](const Sample& s) { return p.ly(s.p50_ns); });
    p.legend(k);
  }
  out << "</svg>\n";
}

void throughput_chart(const std::vector<ReplayResult>& results,
                      std::ostream& out) {
  const double bar = 24;
  const Frame f{900, 40 + bar * 1.5 * static_cast<double>(results.size()) + 40,
                120, 180,
                20,  40};
  double top = 1;
  for (const auto& r : results) top = std::max(top, r.ops_per_second());
  const double xs = nice_step(top, 6);
  top = std::ceil(top / xs) * xs;
  auto x = [&](double v) { return f.x0() + (f.x1() - f.x0()) * v / top; };
  out << "<h2>Throughput</h2>\n<p>Operations replayed per second (more is "
         "better), with the ratio to "
      << escape(results[0].allocator) << ".</p>\n";
  open_svg(out, "throughput", f);
  for (double v = 0; v <= top * 1.0001; v += xs)
    out << "<line x1=\"" << x(v) << "\" x2=\"" << x(v) << "\" y1=\"" << f.y1()
        << "\" y2=\"" << f.y0()
        << "\" stroke=\"#eee\"/><text class=\"tick\" x=\"" << x(v) << "\" y=\""
        << f.y0() + 16 << "\" font-size=\"11\" text-anchor=\"middle\">"
        << count_label(v) << "</text>\n";
  const double base = results[0].ops_per_second();
  for (std::size_t k = 0; k < results.size(); ++k) {
    const auto& r = results[k];
    const double y = f.y1() + bar * 1.5 * static_cast<double>(k);
    out << "<text x=\"" << f.x0() - 8 << "\" y=\"" << y + bar * 0.7
        << "\" font-size=\"12\" text-anchor=\"end\">" << escape(r.allocator)
        << "</text>\n";
    if (!r.failure.empty()) continue;
    out << "<rect class=\"bar\" data-allocator=\"" << escape(r.allocator)
        << "\" x=\"" << f.x0() << "\" y=\"" << y << "\" width=\""
        << x(r.ops_per_second()) - f.x0() << "\" height=\"" << bar
        << "\" fill=\"" << kColours[k % 8] << "\"/><text class=\"value\" x=\""
        << x(r.ops_per_second()) + 6 << "\" y=\"" << y + bar * 0.7
        << "\" font-size=\"12\">"
        << number_text("%.0f ops/s", r.ops_per_second()) << " ("
        << ratio_text(r.ops_per_second(), base) << ")</text>\n";
  }
  out << "<text x=\"" << (f.x0() + f.x1()) / 2 << "\" y=\"" << f.h - 6
      << "\" font-size=\"12\" text-anchor=\"middle\">operations per "
         "second</text>\n</svg>\n";
}

// Latency per call, log scale: a bar to each allocator's p99, a tick at
// its p90 and a dot at its p50.
void latency_chart(const std::vector<ReplayResult>& results,
                   std::ostream& out) {
  std::vector<int> calls;
  double lo = 1e18, hi = 1;
  for (int c = 0; c < kAllocCallCount; ++c)
    for (const auto& r : results)
      if (r.failure.empty() && r.latency[c].count > 0) {
        if (calls.empty() || calls.back() != c) calls.push_back(c);
        lo = std::min(lo, std::max(1.0, r.latency[c].p50));
        hi = std::max(hi, r.latency[c].p99);
      }
  out << "<h2>Latency</h2>\n<p>Time per call (less is better), log scale: "
         "the bar reaches the p99, the tick is the p90 and the dot the p50. "
         "Sampled by checked runs only.</p>\n";
  if (calls.empty()) {
    out << "<p id=\"latency\">No latency was sampled.</p>\n";
    return;
  }
  const double d0 = std::floor(std::log10(lo)), d1 = std::ceil(std::log10(hi));
  const double group = 24 * static_cast<double>(results.size()) + 30;
  const Frame f{std::max(500.0, 90 + group * static_cast<double>(calls.size())),
                340,
                70,
                20,
                20,
                50};
  auto y = [&](double ns) {
    const double l = std::log10(std::max(ns, std::pow(10.0, d0)));
    return f.y0() - (f.y0() - f.y1()) * (l - d0) / std::max(1.0, d1 - d0);
  };
  open_svg(out, "latency", f);
  for (double d = d0; d <= d1; ++d)
    out << "<line x1=\"" << f.x0() << "\" x2=\"" << f.x1() << "\" y1=\""
        << y(std::pow(10.0, d)) << "\" y2=\"" << y(std::pow(10.0, d))
        << "\" stroke=\"#eee\"/><text class=\"tick\" x=\"" << f.x0() - 6
        << "\" y=\"" << y(std::pow(10.0, d)) + 4
        << "\" font-size=\"11\" text-anchor=\"end\">"
        << ns_label(std::pow(10.0, d)) << "</text>\n";
  for (std::size_t g = 0; g < calls.size(); ++g) {
    const int c = calls[g];
    const double gx = f.x0() + 20 + group * static_cast<double>(g);
    out << "<text x=\"" << gx + (group - 30) / 2 << "\" y=\"" << f.y0() + 16
        << "\" font-size=\"12\" text-anchor=\"middle\">"
        << call_name(static_cast<AllocCall>(c)) << "</text>\n";
    for (std::size_t k = 0; k < results.size(); ++k) {
      const auto& r = results[k];
      const Latency& l = r.latency[c];
      if (!r.failure.empty() || l.count == 0) continue;
      const double x = gx + 24 * static_cast<double>(k);
      out << "<g class=\"latency\" data-allocator=\"" << escape(r.allocator)
          << "\" data-call=\"" << call_name(static_cast<AllocCall>(c))
          << "\"><title>" << escape(r.allocator) << " "
          << call_name(static_cast<AllocCall>(c)) << ": p50 " << ns_label(l.p50)
          << ", p90 " << ns_label(l.p90) << ", p99 " << ns_label(l.p99) << " ("
          << l.count << " calls)</title><rect x=\"" << x << "\" y=\""
          << y(l.p99) << "\" width=\"18\" height=\"" << f.y0() - y(l.p99)
          << "\" fill=\"" << kColours[k % 8]
          << "\" fill-opacity=\"0.75\"/><line x1=\"" << x << "\" x2=\""
          << x + 18 << "\" y1=\"" << y(l.p90) << "\" y2=\"" << y(l.p90)
          << "\" stroke=\"black\"/><circle cx=\"" << x + 9 << "\" cy=\""
          << y(l.p50) << "\" r=\"3\" fill=\"black\"/></g>\n";
    }
  }
  out << "<line x1=\"" << f.x0() << "\" y1=\"" << f.y0() << "\" x2=\"" << f.x1()
      << "\" y2=\"" << f.y0() << "\" stroke=\"black\"/>\n";
  for (std::size_t k = 0; k < results.size(); ++k)
    out << "<text x=\"" << f.x1() - 10 << "\" y=\"" << f.y1() + 14 * (k + 1)
        << "\" font-size=\"12\" text-anchor=\"end\" fill=\"" << kColours[k % 8]
        << "\">" << escape(results[k].allocator) << "</text>\n";
  out << "</svg>\n";
}

// The terminal's table (print_comparison), ratios included.
void table(const std::vector<ReplayResult>& results, std::ostream& out) {
  const ReplayResult& b = results[0];
  const int m = static_cast<int>(AllocCall::kMalloc);
  out << "<table id=\"figures\"><tr><th>allocator</th><th>ops/s</th>"
         "<th>ratio</th><th>peak MiB</th><th>ratio</th><th>final MiB</th>"
         "<th>ratio</th><th>peak live MiB</th><th>frag</th><th>frag max</th>"
         "<th>p99 malloc ns</th><th>ratio</th><th>errors</th></tr>\n";
  for (const auto& r : results) {
    out << "<tr><td>" << escape(r.allocator) << "</td>";
    if (!r.failure.empty()) {
      out << "<td colspan=\"12\" class=\"failed\">FAILED: " << escape(r.failure)
          << "</td></tr>\n";
      continue;
    }
    auto cell = [&](const std::string& s) { out << "<td>" << s << "</td>"; };
    auto ratio = [&](double v, double base) {
      out << "<td class=\"ratio\">" << ratio_text(v, base) << "</td>";
    };
    cell(number_text("%.0f", r.ops_per_second()));
    ratio(r.ops_per_second(), b.ops_per_second());
    cell(number_text("%.2f", in_mib(r.peak_rss)));
    ratio(static_cast<double>(r.peak_rss), static_cast<double>(b.peak_rss));
    cell(number_text("%.2f", in_mib(r.final_rss)));
    ratio(static_cast<double>(r.final_rss), static_cast<double>(b.final_rss));
    cell(number_text("%.2f", in_mib(r.peak_live)));
    cell(number_text("%.2f", r.fragmentation()));
    cell(number_text("%.2f", r.max_fragmentation));
    cell(number_text("%.0f", r.latency[m].p99));
    ratio(r.latency[m].p99, b.latency[m].p99);
    cell(std::to_string(r.error_count));
    out << "</tr>\n";
  }
  out << "</table>\n";
}

}  // namespace

void write_plot(const std::string& title,
                const std::vector<ReplayResult>& results, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
      << escape(title)
      << "</title>\n<style>body{font-family:sans-serif;margin:2em}"
         "table{border-collapse:collapse}td,th{padding:2px 8px;"
         "text-align:right}td.ratio{color:#555}td.failed{color:#b00}"
         "h2{font-size:16px;margin:1.5em 0 .3em}</style></head><body>\n<h1>"
      << escape(title) << "</h1>\n";
  if (results.empty()) {
    out << "<p>No allocator was compared.</p>\n</body></html>\n";
    return;
  }
  out << "<p>Ratios are to " << escape(results[0].allocator) << "; mode "
      << escape(results[0].mode) << ".</p>\n";
  table(results, out);
  throughput_chart(results, out);
  latency_chart(results, out);
  memory_chart(results, out);
  time_charts(results, out);
  out << "</body></html>\n";
}

}  // namespace weft::replay
