#include "replay/timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "sim/harness/schedule_trace.h"
#include "traces/overloaded.h"

namespace weft::replay {
namespace {

constexpr std::uint32_t kNone = 0xffffffffu;

// Hands out one number per distinct text, in order of first use.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& texts) : texts_(texts) {
    for (std::uint32_t i = 0; i < texts_.size(); ++i) ids_[texts_[i]] = i;
  }
  std::uint32_t operator()(const std::string& text) {
    const auto [it, added] =
        ids_.try_emplace(text, static_cast<std::uint32_t>(texts_.size()));
    if (added) texts_.push_back(text);
    return it->second;
  }

 private:
  std::vector<std::string>& texts_;
  std::unordered_map<std::string, std::uint32_t> ids_;
};

// A net record's marker kind: connections (open, accept, half-close,
// close, reset), bytes (sent, delivered), faults and state changes.
std::string net_marker_kind(traces::NetRecord::Event e) {
  using E = traces::NetRecord::Event;
  switch (e) {
    case E::kSend:
    case E::kDeliver:
      return "bytes";
    case E::kFault:
      return "fault";
    case E::kState:
      return "state";
    default:
      return "connection";
  }
}

}  // namespace

Timeline build_timeline(traces::TraceReader& reader,
                        const std::function<void(std::uint64_t)>& progress) {
  Timeline t;
  t.header = reader.header();
  std::uint64_t time_ns = 0;
  auto ts = [&](std::uint64_t step) {
    return static_cast<double>(time_ns) / 1000.0 + static_cast<double>(step);
  };
  // Virtual time by step, for an event that names an earlier step (where a
  // message was sent): (step, time) at each change of time.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> times{{0, 0}};
  auto ts_at = [&](std::uint64_t step) {
    auto it = std::upper_bound(
        times.begin(), times.end(), step,
        [](std::uint64_t s, const auto& change) { return s < change.first; });
    const std::uint64_t at = std::prev(it)->second;
    return static_cast<double>(at) / 1000.0 + static_cast<double>(step);
  };
  auto lane = [&](std::uint32_t id) -> Lane& {
    // Strand ids are dense (handed out in order); a corrupt huge one is
    // folded onto a lane of its own rather than allocating billions.
    if (id >= t.lanes.size()) {
      const std::size_t n = std::min<std::size_t>(id, t.lanes.size() + 4096);
      for (std::size_t i = t.lanes.size(); i <= n; ++i)
        t.lanes.push_back(Lane{static_cast<std::uint32_t>(i),
                               "strand-" + std::to_string(i), false});
    }
    return t.lanes[std::min<std::size_t>(id, t.lanes.size() - 1)];
  };

  std::uint32_t running = kNone;
  double run_start = 0;
  std::uint64_t run_first = 0;
  std::uint64_t last_step = 0;
  std::vector<std::vector<std::size_t>> waiting;  // flows by target strand
  Interner intern(t.texts);
  // By strand: its open blocked stretch (an index in t.blocked, or kOpen
  // if none), and the step its last run ended.
  constexpr std::size_t kOpen = ~std::size_t{0};
  std::vector<std::size_t> open_block;
  std::vector<std::uint64_t> last_end;
  auto per_strand = [&](std::uint32_t id) {
    if (id >= open_block.size()) {
      open_block.resize(id + 1, kOpen);
      last_end.resize(id + 1, 0);
    }
  };
  auto open = [&](std::uint32_t id, std::uint64_t from, std::uint32_t text,
                  std::uint32_t where) {
    per_strand(id);
    if (open_block[id] != kOpen) return;
    open_block[id] = t.blocked.size();
    t.blocked.push_back(Blocked{id, from, from, text, where});
  };

  auto start = [&](std::uint32_t id, std::uint64_t step) {
    running = lane(id).strand;
    run_start = ts(step);
    run_first = step;
    if (running < waiting.size()) {
      for (std::size_t f : waiting[running]) {
        t.flows[f].to_us = run_start;
        t.flows[f].to_step = step;
      }
      waiting[running].clear();
    }
    per_strand(running);
    if (open_block[running] != kOpen) {
      t.blocked[open_block[running]].to_step = step;
      open_block[running] = kOpen;
    }
  };
  auto stop = [&](std::uint64_t step, std::string ended_by) {
    if (running == kNone) return;
    t.slices.push_back(Slice{running, run_start, std::max(ts(step), run_start),
                             run_first, step, std::move(ended_by)});
    per_strand(running);
    last_end[running] = step;
    running = kNone;
  };
  std::uint32_t last_waker = kNone;  // of the failing strand, found below
  std::vector<std::uint32_t> last_woken_by;

  std::uint64_t records = 0;
  for (const traces::Record& r : reader.records()) {
    if (progress && ++records % 65536 == 0) progress(reader.summary().consumed);
    std::visit(
        traces::Overloaded{
            [&](const traces::TimeRecord& tr) {
              time_ns = tr.time_ns;
              if (tr.step >= times.back().first)
                times.emplace_back(tr.step, tr.time_ns);
              last_step = std::max(last_step, tr.step);
            },
            [&](const traces::StrandRecord& s) {
              last_step = std::max(last_step, s.step);
              Lane& l = lane(s.strand);
              if (s.event == traces::StrandRecord::Event::kSpawn) {
                l.name = s.name;
                if (t.slices.empty() && running == kNone)
                  start(l.strand, s.step);
              } else {
                l.exited = true;
                if (running == l.strand) stop(s.step, "exit");
              }
            },
            [&](const traces::ChoiceRecord& c) {
              last_step = std::max(last_step, c.step);
              if (c.is_value) {
                t.markers.push_back(
                    Marker{running == kNone ? 0 : running, ts(c.step), c.step,
                           "choice",
                           sim::choice_kind_name(c.kind) + ": value " +
                               std::to_string(c.chosen) + " of " +
                               std::to_string(c.count)});
              } else if (lane(c.picked).strand != running) {
                stop(c.step, sim::choice_kind_name(c.kind));
                start(c.picked, c.step);
              }
            },
            [&](const traces::EventRecord& e) {
              last_step = std::max(last_step, e.step);
              const std::uint32_t peer = lane(e.peer).strand;
              if (e.kind == traces::EventRecord::Kind::kWakeup ||
                  e.kind == traces::EventRecord::Kind::kMessage) {
                if (peer >= last_woken_by.size())
                  last_woken_by.resize(peer + 1, kNone);
                last_woken_by[peer] = lane(e.strand).strand;
              }
              if (e.kind == traces::EventRecord::Kind::kMessage &&
                  e.value <= e.step) {
                // Sent by `strand` at step `value`, delivered to the
                // running `peer` now.
                t.flows.push_back(Flow{
                    lane(e.strand).strand, peer, ts_at(e.value), ts(e.step),
                    sim::event_kind_name(e.kind), e.value, e.step});
              } else if (e.kind == traces::EventRecord::Kind::kWakeup ||
                         e.kind == traces::EventRecord::Kind::kMessage) {
                t.flows.push_back(Flow{lane(e.strand).strand, peer, ts(e.step),
                                       -1, sim::event_kind_name(e.kind), e.step,
                                       e.step});
                if (peer >= waiting.size()) waiting.resize(peer + 1);
                waiting[peer].push_back(t.flows.size() - 1);
                // A trace without op records (format 2.0) does not say
                // what a woken strand waited on, only that it did.
                if (e.kind == traces::EventRecord::Kind::kWakeup &&
                    peer != running) {
                  per_strand(peer);
                  open(peer, last_end[peer],
                       intern("blocked (on what, the trace does not say)"), 0);
                }
              } else {
                t.markers.push_back(Marker{
                    peer, ts(e.step), e.step, sim::event_kind_name(e.kind),
                    e.kind == traces::EventRecord::Kind::kTimer
                        ? "woken by the clock"
                        : e.detail});
              }
            },
            [&](const traces::FailureRecord& f) {
              const std::uint32_t on =
                  f.strand == kNone ? 0 : lane(f.strand).strand;
              time_ns = f.time_ns;
              t.markers.push_back(
                  Marker{on, ts(f.step), f.step, "failure", f.message});
              last_step = std::max(last_step, f.step);
              t.failed = true;
              t.failure_step = f.step;
              t.involved.clear();
              if (f.strand != kNone) t.involved.push_back(on);
              for (std::uint32_t id = 0; id < open_block.size(); ++id)
                if (open_block[id] != kOpen && id != on)
                  t.involved.push_back(id);
              last_waker =
                  on < last_woken_by.size() ? last_woken_by[on] : kNone;
            },
            [&](const traces::OpRecord& o) {
              last_step = std::max(last_step, o.step);
              const std::uint32_t id = lane(o.strand).strand;
              const std::uint32_t where = intern(o.where);
              if (o.blocks) {
                // Its run ends here, whoever runs next.
                if (running == id) stop(o.step, "blocked");
                open(id, o.step, intern(o.what), where);
              } else {
                t.ops.push_back(Op{id, o.step, intern(o.what), where, o.kind,
                                   o.has_value, o.is_signed, o.value});
              }
            },
            [&](const traces::NetRecord& n) {
              last_step = std::max(last_step, n.step);
              t.markers.push_back(Marker{
                  lane(n.strand).strand, ts(n.step), n.step,
                  net_marker_kind(n.event),
                  traces::net_event_name(n.event) + " " + traces::net_text(n)});
            },
            // An allocator log has no lanes: its records draw nothing.
            [](const traces::AllocRecord&) {},
            [](const traces::SlotRecord&) {},
            // A flight recording is drawn from its replay's schedule trace.
            [](const traces::FlightRecord&) {},
        },
        r);
  }
  stop(last_step + 1, "end of run");
  for (std::size_t i = 0; i < open_block.size(); ++i)
    if (open_block[i] != kOpen)
      t.blocked[open_block[i]].to_step = last_step + 1;
  if (last_waker != kNone && std::find(t.involved.begin(), t.involved.end(),
                                       last_waker) == t.involved.end())
    t.involved.push_back(last_waker);
  t.times = std::move(times);
  t.end_step = last_step + 1;
  // An arrow whose target never ran again points nowhere: drop it.
  std::erase_if(t.flows, [](const Flow& f) { return f.to_us < 0; });
  t.end_us = ts(last_step + 1);
  if (progress) progress(reader.summary().consumed);
  return t;
}

std::string to_perfetto_json(const Timeline& t) {
  using nlohmann::json;
  json events = json::array();
  std::string process = t.header.get("test");
  if (process.empty()) process = "weft schedule";
  events.push_back({{"ph", "M"},
                    {"pid", 1},
                    {"name", "process_name"},
                    {"args", {{"name", process}}}});
  for (const Lane& l : t.lanes) {
    events.push_back(
        {{"ph", "M"},
         {"pid", 1},
         {"tid", l.strand},
         {"name", "thread_name"},
         {"args", {{"name", l.name + " #" + std::to_string(l.strand)}}}});
    events.push_back({{"ph", "M"},
                      {"pid", 1},
                      {"tid", l.strand},
                      {"name", "thread_sort_index"},
                      {"args", {{"sort_index", l.strand}}}});
  }
  for (const Slice& s : t.slices)
    events.push_back({{"ph", "X"},
                      {"pid", 1},
                      {"tid", s.strand},
                      {"ts", s.start_us},
                      {"dur", s.end_us - s.start_us},
                      {"name", t.lanes[s.strand].name},
                      {"args",
                       {{"steps", std::to_string(s.first_step) + "-" +
                                      std::to_string(s.last_step)},
                        {"ended by", s.ended_by}}}});
  std::uint64_t id = 0;
  for (const Flow& f : t.flows) {
    ++id;
    events.push_back({{"ph", "s"},
                      {"id", id},
                      {"pid", 1},
                      {"tid", f.from},
                      {"ts", f.from_us},
                      {"cat", "flow"},
                      {"name", f.kind}});
    events.push_back({{"ph", "f"},
                      {"bp", "e"},
                      {"id", id},
                      {"pid", 1},
                      {"tid", f.to},
                      {"ts", f.to_us},
                      {"cat", "flow"},
                      {"name", f.kind}});
  }
  // Where a step falls on this timeline's time (see timeline.h).
  auto at = [&](std::uint64_t step) {
    auto it = std::upper_bound(
        t.times.begin(), t.times.end(), step,
        [](std::uint64_t s, const auto& change) { return s < change.first; });
    const std::uint64_t ns = it == t.times.begin() ? 0 : std::prev(it)->second;
    return static_cast<double>(ns) / 1000.0 + static_cast<double>(step);
  };
  for (const Blocked& b : t.blocked)
    events.push_back({{"ph", "X"},
                      {"pid", 1},
                      {"tid", b.strand},
                      {"cat", "blocked"},
                      {"ts", at(b.from_step)},
                      {"dur", std::max(0.0, at(b.to_step) - at(b.from_step))},
                      {"name", "blocked: " + t.texts[b.text]},
                      {"args", {{"where", t.texts[b.where]}}}});
  for (const Op& o : t.ops) {
    json args = {{"step", o.step}, {"where", t.texts[o.where]}};
    if (o.has_value)
      args["value"] = o.is_signed ? json(static_cast<std::int64_t>(o.value))
                                  : json(o.value);
    events.push_back({{"ph", "i"},
                      {"s", "t"},
                      {"pid", 1},
                      {"tid", o.strand},
                      {"cat", "op"},
                      {"ts", at(o.step)},
                      {"name", t.texts[o.text]},
                      {"args", args}});
  }
  for (const Marker& m : t.markers)
    events.push_back({{"ph", "i"},
                      {"s", m.kind == "failure" ? "g" : "t"},
                      {"pid", 1},
                      {"tid", m.strand},
                      {"ts", m.at_us},
                      {"name", m.kind},
                      {"args", {{"step", m.step}, {"detail", m.text}}}});
  json meta = json::object();
  for (const auto& [k, v] : t.header.metadata) meta[k] = v;
  meta["time"] = "virtual time in microseconds plus one microsecond per step";
  json out = {
      {"traceEvents", events}, {"displayTimeUnit", "ns"}, {"otherData", meta}};
  return out.dump(1);
}

}  // namespace weft::replay
