// A replay's result as JSON (the child prints it, the parent reads it) and
// as the report `weft alloc replay` prints, and its errors described.
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "replay/alloc/checks.h"
#include "replay/alloc/replay.h"

namespace weft::replay {
namespace {

void print_mode(const ReplayResult& r, std::ostream& out) {
  if (r.mode == "timed")
    out << "mode           timed: " << r.threads
        << (r.threads == 1 ? " thread" : " threads")
        << ", one per recorded thread, each waiting before each call until "
           "its recorded time (the recorded gaps kept)\n";
  else if (r.mode == "fast")
    out << "mode           fast: one thread, every operation in recorded "
           "global order, as fast as possible\n";
  else
    out << "mode           ordered: " << r.threads
        << (r.threads == 1 ? " thread" : " threads")
        << ", one per recorded thread, each in its recorded order "
           "(blocks handed between threads wait for each other)\n";
  out << "checks         "
      << (r.checked ? "on (patterns, calloc zeros, alignment; speed "
                      "includes them, latency does not)"
                    : "off (--no-check: pure speed, no latency)")
      << "\n";
}

void print_speed(const ReplayResult& r, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof line, "operations     %llu in %.3f s: %.0f ops/s",
                static_cast<unsigned long long>(r.operations), r.seconds,
                r.ops_per_second());
  out << line;
  if (r.checked && r.call_seconds > 0) {
    std::snprintf(line, sizeof line,
                  " (%.0f ops/s counting allocator calls "
                  "only)",
                  static_cast<double>(r.operations) / r.call_seconds);
    out << line;
  }
  out << "\n";
  std::snprintf(line, sizeof line,
                "slots          %llu (the peak number of live blocks)\n",
                static_cast<unsigned long long>(r.slots));
  out << line;
}

void print_memory(const ReplayResult& r, std::ostream& out) {
  char line[256];
  const auto mib = [](std::uint64_t b) {
    return static_cast<double>(b) / (1024.0 * 1024.0);
  };
  std::snprintf(line, sizeof line,
                "peak RSS       %.2f MiB\nfinal RSS      %.2f MiB\n"
                "peak live      %.2f MiB requested\n",
                mib(r.peak_rss), mib(r.final_rss), mib(r.peak_live));
  out << line;
  if (r.peak_live > 0) {
    std::snprintf(line, sizeof line,
                  "fragmentation  %.2f (peak RSS / peak live)\n",
                  r.fragmentation());
    out << line;
    // At the end, a program that freed nearly everything has no ratio
    // worth the name: only with a tenth of the peak still live.
    if (r.checked && r.final_live * 10 >= r.peak_live)
      std::snprintf(line, sizeof line,
                    "               %.2f at the end (final RSS / final live), "
                    "%.2f at most over the run\n",
                    r.end_fragmentation(), r.max_fragmentation);
    else if (r.checked)
      std::snprintf(line, sizeof line,
                    "               %.2f at most over the run (at the end "
                    "too little is live for a ratio)\n",
                    r.max_fragmentation);
    if (r.checked) out << line;
    // Unchecked, nothing writes the blocks: pages the program would have
    // written may never be resident, so RSS (and this ratio) can be low.
    if (!r.checked)
      out << "               (--no-check leaves blocks untouched: RSS counts "
             "only the pages the allocator wrote)\n";
  }
}

void print_latency(const ReplayResult& r, std::ostream& out) {
  char line[256];
  out << "latency (ns)   call            count      p50      p90      p99"
         "    p99.9      max\n";
  for (int c = 0; c < kAllocCallCount; ++c) {
    const Latency& l = r.latency[c];
    if (l.count == 0) continue;
    std::snprintf(line, sizeof line,
                  "               %-14s %6llu %8.0f %8.0f %8.0f %8.0f %8.0f\n",
                  call_name(static_cast<AllocCall>(c)),
                  static_cast<unsigned long long>(l.count), l.p50, l.p90, l.p99,
                  l.p999, l.max);
    out << line;
  }
}

// A dozen of the series' points, evenly spread: the run at a glance.
void print_series(const ReplayResult& r, std::ostream& out) {
  if (r.series.size() < 2) return;
  out << "over time      time s   operations   live MiB    RSS MiB   p50 ns"
         "   p99 ns\n";
  const std::size_t rows = std::min<std::size_t>(12, r.series.size());
  for (std::size_t k = 0; k < rows; ++k) {
    const Sample& s = r.series[k * (r.series.size() - 1) / (rows - 1)];
    char line[160];
    std::snprintf(line, sizeof line,
                  "               %6.3f %12llu %10.2f %10.2f",
                  static_cast<double>(s.time_ns) / 1e9,
                  static_cast<unsigned long long>(s.op),
                  static_cast<double>(s.live_bytes) / 1048576.0,
                  static_cast<double>(s.rss_bytes) / 1048576.0);
    out << line;
    // No call since the previous point (an idle spell): no latency.
    if (s.p99_ns > 0)
      std::snprintf(line, sizeof line, " %8.0f %8.0f\n", s.p50_ns, s.p99_ns);
    else
      std::snprintf(line, sizeof line, " %8s %8s\n", "-", "-");
    out << line;
  }
}

void print_errors(const ReplayResult& r, std::ostream& out) {
  if (r.error_count == 0) {
    out << (r.checked ? "blocks         all checked, none damaged\n" : "");
  } else {
    out << "ERRORS         " << r.error_count << "\n";
    for (const auto& e : r.errors) out << "  " << e << "\n";
  }
}

}  // namespace

std::string to_json(const ReplayResult& r) {
  nlohmann::json j;
  j["allocator"] = r.allocator;
  j["mode"] = r.mode;
  j["checked"] = r.checked;
  j["threads"] = r.threads;
  j["operations"] = r.operations;
  j["slots"] = r.slots;
  j["seconds"] = r.seconds;
  j["call_seconds"] = r.call_seconds;
  j["peak_rss"] = r.peak_rss;
  j["final_rss"] = r.final_rss;
  j["peak_live"] = r.peak_live;
  j["final_live"] = r.final_live;
  j["max_fragmentation"] = r.max_fragmentation;
  j["error_count"] = r.error_count;
  j["errors"] = r.errors;
  j["failure"] = r.failure;
  j["bad_input"] = r.bad_input;
  auto& lat = j["latency"];
  for (int c = 0; c < kAllocCallCount; ++c) {
    const Latency& l = r.latency[c];
    lat.push_back({l.count, l.p50, l.p90, l.p99, l.p999, l.max});
  }
  auto& ser = j["series"];
  ser = nlohmann::json::array();
  for (const auto& s : r.series)
    ser.push_back(
        {s.op, s.live_bytes, s.rss_bytes, s.time_ns, s.p50_ns, s.p99_ns});
  return j.dump();
}

ReplayResult from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  ReplayResult r;
  r.allocator = j.at("allocator").get<std::string>();
  r.mode = j.at("mode").get<std::string>();
  r.checked = j.at("checked").get<bool>();
  r.threads = j.at("threads").get<std::uint32_t>();
  r.operations = j.at("operations").get<std::uint64_t>();
  r.slots = j.at("slots").get<std::uint64_t>();
  r.seconds = j.at("seconds").get<double>();
  r.call_seconds = j.at("call_seconds").get<double>();
  r.peak_rss = j.at("peak_rss").get<std::uint64_t>();
  r.final_rss = j.at("final_rss").get<std::uint64_t>();
  r.peak_live = j.at("peak_live").get<std::uint64_t>();
  r.final_live = j.value("final_live", std::uint64_t{0});
  r.max_fragmentation = j.value("max_fragmentation", 0.0);
  r.error_count = j.at("error_count").get<std::uint64_t>();
  r.errors = j.at("errors").get<std::vector<std::string>>();
  r.failure = j.at("failure").get<std::string>();
  r.bad_input = j.value("bad_input", false);
  const auto& lat = j.at("latency");
  for (int c = 0; c < kAllocCallCount && c < static_cast<int>(lat.size());
       ++c) {
    const auto& l = lat[static_cast<std::size_t>(c)];
    r.latency[c] = Latency{l[0].get<std::uint64_t>(), l[1].get<double>(),
                           l[2].get<double>(),        l[3].get<double>(),
                           l[4].get<double>(),        l[5].get<double>()};
  }
  for (const auto& s : j.at("series")) {
    Sample p{s[0].get<std::uint64_t>(), s[1].get<std::uint64_t>(),
             s[2].get<std::uint64_t>()};
    if (s.size() >= 6) {
      p.time_ns = s[3].get<std::uint64_t>();
      p.p50_ns = s[4].get<double>();
      p.p99_ns = s[5].get<double>();
    }
    r.series.push_back(p);
  }
  return r;
}

void print_report(const ReplayResult& r, std::ostream& out) {
  out << "allocator      " << r.allocator << "\n";
  if (!r.failure.empty()) {
    out << "FAILED         " << r.failure << "\n";
    return;
  }
  print_mode(r, out);
  print_speed(r, out);
  print_memory(r, out);
  if (r.checked) print_latency(r, out);
  if (r.checked) print_series(r, out);
  if (r.process_peak_rss > 0) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "replayer       %.2f MiB peak RSS, the whole process (its "
                  "slot array and log window included)\n",
                  static_cast<double>(r.process_peak_rss) / 1048576.0);
    out << line;
  }
  print_errors(r, out);
}

namespace internal {
namespace {

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

std::string describe(const ErrorInfo& e) {
  std::string where = "operation " + std::to_string(e.op) + " (" +
                      call_name(e.call) + " of " + std::to_string(e.size) +
                      " bytes, slot " + std::to_string(e.slot) + ")";
  switch (e.problem) {
    case Problem::kNull:
      return where + ": returned NULL, though the recorded call succeeded";
    case Problem::kMisaligned:
      return where + ": result " + hex(e.addr) + " is not aligned to " +
             std::to_string(e.extra) + " bytes";
    case Problem::kCallocNotZero:
      return where + ": calloc memory at " + hex(e.addr) +
             " is not zero at "
             "byte " +
             std::to_string(e.offset);
    case Problem::kCorrupted:
      return where + ": the block at " + hex(e.addr) + " was changed at byte " +
             std::to_string(e.offset) +
             " while it was live: the allocator handed out memory that "
             "overlaps it, or handed it out again before its free";
    case Problem::kReallocLost:
      return where + ": realloc to " + hex(e.addr) +
             " did not keep the block's contents (byte " +
             std::to_string(e.offset) + " differs)";
    case Problem::kCorruptedAtEnd:
      return "at the end, slot " + std::to_string(e.slot) + " (block of " +
             std::to_string(e.size) + " bytes at " + hex(e.addr) +
             ") was changed at byte " + std::to_string(e.offset) +
             ": the allocator handed out overlapping memory";
  }
  return where;
}

}  // namespace internal
}  // namespace weft::replay
