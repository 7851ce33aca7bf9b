#include "replay/trace_command.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <system_error>
#include <variant>

#include "replay/alloc/log.h"
#include "replay/timeline.h"
#include "sim/harness/schedule_trace.h"
#include "traces/files.h"
#include "traces/overloaded.h"
#include "traces/reader.h"

namespace weft::replay {
namespace {

constexpr std::uint32_t kNoStrand = 0xffffffffu;

// "\rweft: reading run.weft 45%" on a terminal, for files big enough to
// wait for; nothing otherwise.
class Progress {
 public:
  Progress(const std::string& path, std::uint64_t total)
      : path_(path),
        total_(total),
        on_(isatty(STDERR_FILENO) && total >= (8u << 20)) {}
  ~Progress() {
    if (on_ && shown_) std::fprintf(stderr, "\r\033[K");
  }
  void update(std::uint64_t done) {
    if (!on_ || total_ == 0) return;
    const int pct = static_cast<int>(done * 100 / total_);
    if (pct == last_) return;
    last_ = pct;
    shown_ = true;
    std::fprintf(stderr, "\rweft: reading %s %d%%", path_.c_str(), pct);
  }

 private:
  std::string path_;
  std::uint64_t total_;
  bool on_;
  bool shown_ = false;
  int last_ = -1;
};

// Runs `f`, turning bad input into a message and status 2.
template <class F>
int guarded(const char* verb, F&& f) {
  try {
    return f();
  } catch (const traces::TraceError& e) {
    std::cerr << "weft trace " << verb << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "weft trace " << verb << ": " << e.what() << "\n";
  }
  return 2;
}

// Says on stderr what a read lost; the exit status of the read.
int losses(const char* verb, const std::string& path,
           const traces::ReadSummary& summary) {
  const auto lines = traces::describe_losses(path, summary);
  for (const auto& line : lines)
    std::cerr << "weft trace " << verb << ": " << line << "\n";
  return lines.empty() ? 0 : traces::kExitLosses;
}

std::string seconds(std::uint64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9gs", static_cast<double>(ns) / 1e9);
  return buf;
}

const char* flight_op_name(traces::FlightOp op) {
  static constexpr const char* kNames[] = {
      "spawn",      "join",       "lock",        "cv-wait",      "acquire",
      "release",    "latch-wait", "atomic-read", "atomic-write", "clock",
      "try-failed", "timer-arm",  "timer-fire",  "timer-cancel"};
  const auto i = static_cast<std::size_t>(op);
  return i < std::size(kNames) ? kNames[i] : "?";
}

// A flight recording's own counts (`weft trace stat`): recorded threads,
// objects, and operations by kind.
struct FlightStat {
  std::set<std::uint32_t> threads;
  std::set<std::uint64_t> objects;
  std::map<std::string, std::uint64_t> by_op;
  std::uint64_t operations = 0;

  void add(const traces::FlightRecord& f) {
    ++operations;
    threads.insert(f.thread);
    if (f.object != 0) objects.insert(f.object);
    ++by_op[flight_op_name(f.op)];
    // Reads and writes counted in an atomic operation's value (its run).
    const traces::FlightRun run = traces::flight_run(f);
    operations += traces::flight_run_operations(f);
    if (const std::uint64_t reads = run.writes * run.reads + run.trailing)
      by_op["atomic-read"] += reads;
    if (run.writes > 0) by_op["atomic-write"] += run.writes;
  }
  void print(std::ostream& out) const {
    out << "threads: " << threads.size() << "\n";
    out << "objects: " << objects.size() << "\n";
    out << "operations: " << operations << "\n";
    for (const auto& [k, n] : by_op) out << "  " << k << ": " << n << "\n";
  }
};

const char* trace_kind(traces::TraceKind k) {
  switch (k) {
    case traces::TraceKind::kSchedule:
      return "schedule";
    case traces::TraceKind::kEvents:
      return "events";
    case traces::TraceKind::kAllocLog:
      return "allocator log";
    case traces::TraceKind::kFlight:
      return "flight recording";
  }
  return "?";
}

}  // namespace

int trace_show(const std::string& path, const ShowOptions& options,
               std::ostream& out) {
  return guarded("show", [&] {
    auto reader = traces::TraceReader::open(path);
    Progress progress(path, reader.summary().file_bytes);
    std::map<std::uint32_t, std::string> names;
    auto name = [&](std::uint32_t id) -> std::string {
      if (id == kNoStrand) return "-";
      auto it = names.find(id);
      return "'" + (it == names.end() ? "#" + std::to_string(id) : it->second) +
             "'";
    };
    out << "# " << path << ": " << trace_kind(reader.header().kind)
        << " trace, format " << int{reader.header().version_major} << "."
        << int{reader.header().version_minor} << "\n";
    for (const auto& [k, v] : reader.header().metadata)
      out << "# " << k << ": " << v << "\n";
    std::uint64_t time_ns = 0;
    std::uint64_t shown = 0;
    std::uint64_t seen = 0;
    char prefix[64];
    for (const traces::Record& r : reader.records()) {
      if (++seen % 65536 == 0) progress.update(reader.summary().consumed);
      std::string line;
      std::uint64_t step = 0;
      // False for a record not shown (a forced pick without --forced).
      const bool show = std::visit(
          traces::Overloaded{
              [&](const traces::TimeRecord& t) {
                time_ns = t.time_ns;
                step = t.step;
                line = "time    now " + seconds(time_ns);
                return true;
              },
              [&](const traces::StrandRecord& s) {
                step = s.step;
                if (s.event == traces::StrandRecord::Event::kSpawn) {
                  names[s.strand] = s.name;
                  line = "spawn   " + name(s.strand) + " #" +
                         std::to_string(s.strand) + " by " + name(s.parent);
                } else {
                  line = "exit    " + name(s.strand);
                }
                return true;
              },
              [&](const traces::ChoiceRecord& c) {
                step = c.step;
                if (c.count < 2 && !options.forced) return false;
                if (c.is_value) {
                  line = "value   " + sim::choice_kind_name(c.kind) + " by " +
                         name(c.strand) + ": " + std::to_string(c.chosen) +
                         " of 0.." + std::to_string(c.count - 1);
                } else {
                  line = (c.count < 2 ? "forced  " : "choice  ") +
                         sim::choice_kind_name(c.kind) + " by " +
                         name(c.strand) + " -> " + name(c.picked) + " (" +
                         std::to_string(c.chosen + 1) + " of " +
                         std::to_string(c.count) + ")" +
                         (c.preemption ? " preemption" : "");
                }
                return true;
              },
              [&](const traces::EventRecord& e) {
                step = e.step;
                line = "event   " + sim::event_kind_name(e.kind) + " " +
                       name(e.strand) + " -> " + name(e.peer);
                if (!e.detail.empty()) line += ": " + e.detail;
                return true;
              },
              [&](const traces::OpRecord& o) {
                step = o.step;
                line = std::string(o.blocks ? "blocked " : "op      ") +
                       name(o.strand) + ": " + sim::op_text(o);
                return true;
              },
              [&](const traces::NetRecord& n) {
                step = n.step;
                char kind[16];
                std::snprintf(kind, sizeof kind, "%-11s",
                              traces::net_event_name(n.event).c_str());
                line = "net     " + name(n.strand) + " " + kind + " " +
                       traces::net_text(n);
                return true;
              },
              [&](const traces::FailureRecord& f) {
                step = f.step;
                line = "FAILURE in " + name(f.strand) + ": " + f.message;
                return true;
              },
              [&](const traces::AllocRecord& a) {
                // Allocator logs have no steps or virtual time: the
                // sequence number takes the step's column.
                step = a.seq;
                char buf[160];
                std::snprintf(buf, sizeof buf,
                              "%-14s thread %u  size %llu align %llu  ptr "
                              "%#llx -> %#llx",
                              call_name(a.call), a.thread,
                              static_cast<unsigned long long>(a.size),
                              static_cast<unsigned long long>(a.align),
                              static_cast<unsigned long long>(a.ptr),
                              static_cast<unsigned long long>(a.result));
                line = buf;
                return true;
              },
              [&](const traces::SlotRecord& l) {
                step = seen;
                char buf[160];
                std::snprintf(buf, sizeof buf,
                              "%-14s thread %u  slot %u  size %llu align "
                              "%llu%s",
                              call_name(l.call), l.thread, l.slot,
                              static_cast<unsigned long long>(l.size),
                              static_cast<unsigned long long>(l.align),
                              l.from_null ? "  (from NULL)" : "");
                line = buf;
                return true;
              },
              [&](const traces::FlightRecord& f) {
                step = seen;
                char buf[160];
                std::snprintf(buf, sizeof buf,
                              "%-12s thread %u  object %llu  version %llu  "
                              "value %llu",
                              flight_op_name(f.op), f.thread,
                              static_cast<unsigned long long>(f.object),
                              static_cast<unsigned long long>(f.version),
                              static_cast<unsigned long long>(f.value));
                line = buf;
                return true;
              },
          },
          r);
      if (!show) continue;
      std::snprintf(prefix, sizeof prefix, "%10llu  %-12s  ",
                    static_cast<unsigned long long>(step),
                    seconds(time_ns).c_str());
      out << prefix << line << "\n";
      // Stopped early: what the rest of the file holds was not looked at.
      if (options.limit != 0 && ++shown >= options.limit) return 0;
    }
    out << std::flush;
    return losses("show", path, reader.summary());
  });
}

int trace_stat(const std::string& path, std::ostream& out) {
  return guarded("stat", [&] {
    auto reader = traces::TraceReader::open(path);
    const std::uint64_t header_bytes = reader.summary().consumed;
    Progress progress(path, reader.summary().file_bytes);
    std::uint64_t records = 0, choices = 0, forced = 0, strands = 0, events = 0,
                  times = 0, failures = 0, allocator_calls = 0, encoded = 0,
                  ops = 0, nets = 0, flight_ops = 0;
    double bits = 0;
    std::map<std::string, std::uint64_t> by_kind;
    FlightStat flight;
    std::string scratch;
    for (const traces::Record& r : reader.records()) {
      if (++records % 65536 == 0) progress.update(reader.summary().consumed);
      scratch.clear();
      traces::encode(r, scratch);
      encoded += scratch.size();
      std::visit(traces::Overloaded{
                     [&](const traces::ChoiceRecord& c) {
                       if (c.count < 2) {
                         ++forced;
                         return;
                       }
                       ++choices;
                       bits += std::log2(static_cast<double>(c.count));
                       ++by_kind[sim::choice_kind_name(c.kind)];
                     },
                     [&](const traces::StrandRecord& s) {
                       if (s.event == traces::StrandRecord::Event::kSpawn)
                         ++strands;
                     },
                     [&](const traces::EventRecord&) { ++events; },
                     [&](const traces::TimeRecord&) { ++times; },
                     [&](const traces::FailureRecord&) { ++failures; },
                     [&](const traces::OpRecord&) { ++ops; },
                     [&](const traces::NetRecord&) { ++nets; },
                     [&](const traces::AllocRecord&) { ++allocator_calls; },
                     [&](const traces::SlotRecord&) { ++allocator_calls; },
                     [&](const traces::FlightRecord& f) {
                       ++flight_ops;
                       flight.add(f);
                     },
                 },
                 r);
    }
    const auto& sum = reader.summary();
    const std::uint64_t frame_bytes =
        sum.consumed > header_bytes ? sum.consumed - header_bytes : 0;
    char buf[256];
    out << path << ": " << trace_kind(reader.header().kind) << " trace, format "
        << int{reader.header().version_major} << "."
        << int{reader.header().version_minor} << "\n";
    for (const auto& [k, v] : reader.header().metadata)
      out << "  " << k << ": " << v << "\n";
    out << "file: " << sum.file_bytes << " bytes (header " << header_bytes
        << ", " << sum.frames << " frames " << frame_bytes << ", lost "
        << sum.lost_bytes << ")\n";
    out << "records: " << records << " (choices " << choices
        << ", forced picks " << forced << ", strands " << strands << ", events "
        << events << ", time " << times << ", failures " << failures
        << (ops > 0 ? ", ops " + std::to_string(ops) : std::string())
        << (nets > 0 ? ", net " + std::to_string(nets) : std::string())
        << ", allocator calls " << allocator_calls;
    if (flight_ops > 0) out << ", flight operations " << flight_ops;
    out << ")\n";
    // A flight recording has threads and operations, not strands and
    // choices.
    if (reader.header().kind == traces::TraceKind::kFlight) {
      flight.print(out);
      out << std::flush;
      return losses("stat", path, sum);
    }
    out << "strands: " << strands << "\n";
    out << "choices: " << choices << "\n";
    for (const auto& [k, n] : by_kind) out << "  " << k << ": " << n << "\n";
    if (choices > 0) {
      std::snprintf(
          buf, sizeof buf,
          "bytes per choice: %.2f in frames (%.2f encoded before "
          "compression)\n",
          static_cast<double>(frame_bytes) / static_cast<double>(choices),
          static_cast<double>(encoded) / static_cast<double>(choices));
      out << buf;
      std::snprintf(buf, sizeof buf,
                    "entropy bound: %.1f bits = %.1f bytes (sum of log2 of "
                    "the alternatives)\n",
                    bits, bits / 8);
      out << buf;
      if (bits > 0) {
        std::snprintf(buf, sizeof buf,
                      "ratio to the bound: %.2fx (frames), %.2fx (whole "
                      "file)\n",
                      static_cast<double>(frame_bytes) * 8 / bits,
                      static_cast<double>(sum.file_bytes) * 8 / bits);
        out << buf;
      }
    }
    out << std::flush;
    return losses("stat", path, sum);
  });
}

int trace_verify(const std::string& path, std::ostream& out) {
  return guarded("verify", [&] {
    auto reader = traces::TraceReader::open(path);
    Progress progress(path, reader.summary().file_bytes);
    std::uint64_t n = 0;
    for (const traces::Record& r : reader.records()) {
      (void)r;
      if (++n % 65536 == 0) progress.update(reader.summary().consumed);
    }
    const auto& sum = reader.summary();
    const auto lines = traces::describe_losses(path, sum);
    if (!lines.empty()) {
      out << path << ": DAMAGED\n";
      for (const auto& line : lines) out << line << "\n";
      return traces::kExitLosses;
    }
    out << path << ": ok: " << sum.frames << " frames, " << sum.records
        << " records, every checksum verified\n";
    return 0;
  });
}

int trace_export(const std::string& path, const std::string& format,
                 std::string output, std::ostream& out) {
  if (format != "perfetto" && format != "html") {
    std::cerr << "weft trace export: unknown format '" << format
              << "' (accepted: perfetto, html)\n";
    return 2;
  }
  return guarded("export", [&] {
    if (output.empty()) {
      output = path;
      if (output.size() > 5 && output.ends_with(".weft"))
        output.resize(output.size() - 5);
      output += format == "html" ? ".html" : ".json";
    }
    if (output != "-") traces::refuse_overwriting(path, output, "trace");
    auto reader = traces::TraceReader::open(path);
    if (reader.header().kind == traces::TraceKind::kAllocLog) {
      std::cerr << "weft trace export: " << path
                << " is an allocator log, which has no strands to draw on "
                   "a timeline: `weft alloc compare LOG ALLOCATORS... "
                   "--html OUT` plots it\n";
      return 2;
    }
    Progress progress(path, reader.summary().file_bytes);
    const Timeline t = build_timeline(
        reader, [&](std::uint64_t done) { progress.update(done); });
    const std::string text =
        format == "html" ? to_html(t) : to_perfetto_json(t);
    if (output == "-") {
      out << text << std::flush;
      return losses("export", path, reader.summary());
    }
    traces::write_file_atomically(output, text);
    out << "wrote " << output << " (" << t.lanes.size() << " strands, "
        << t.slices.size() << " slices, " << t.flows.size() << " arrows)\n"
        << std::flush;
    return losses("export", path, reader.summary());
  });
}

}  // namespace weft::replay
