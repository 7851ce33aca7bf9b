#include "replay/timeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "replay/timeline_page.h"
#include "sim/harness/schedule_trace.h"
#include "traces/overloaded.h"

namespace weft::replay {
namespace {

constexpr std::uint32_t kNone = 0xffffffffu;

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

  auto start = [&](std::uint32_t id, std::uint64_t step) {
    running = lane(id).strand;
    run_start = ts(step);
    run_first = step;
    if (running < waiting.size()) {
      for (std::size_t f : waiting[running]) t.flows[f].to_us = run_start;
      waiting[running].clear();
    }
  };
  auto stop = [&](std::uint64_t step, std::string ended_by) {
    if (running == kNone) return;
    t.slices.push_back(Slice{running, run_start, std::max(ts(step), run_start),
                             run_first, step, std::move(ended_by)});
    running = kNone;
  };

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
              if (e.kind == traces::EventRecord::Kind::kMessage &&
                  e.value <= e.step) {
                // Sent by `strand` at step `value`, delivered to the
                // running `peer` now.
                t.flows.push_back(Flow{lane(e.strand).strand, peer,
                                       ts_at(e.value), ts(e.step),
                                       sim::event_kind_name(e.kind)});
              } else if (e.kind == traces::EventRecord::Kind::kWakeup ||
                         e.kind == traces::EventRecord::Kind::kMessage) {
                t.flows.push_back(Flow{lane(e.strand).strand, peer, ts(e.step),
                                       -1, sim::event_kind_name(e.kind)});
                if (peer >= waiting.size()) waiting.resize(peer + 1);
                waiting[peer].push_back(t.flows.size() - 1);
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

namespace {}  // namespace

std::string to_html(const Timeline& t) {
  using nlohmann::json;
  json d;
  d["metadata"] = json::array();
  for (const auto& [k, v] : t.header.metadata)
    d["metadata"].push_back(json::array({k, v}));
  d["lanes"] = json::array();
  for (const Lane& l : t.lanes)
    d["lanes"].push_back({{"strand", l.strand}, {"name", l.name}});
  d["slices"] = json::array();
  for (const Slice& s : t.slices)
    d["slices"].push_back({{"strand", s.strand},
                           {"start_us", s.start_us},
                           {"end_us", s.end_us},
                           {"first_step", s.first_step},
                           {"last_step", s.last_step},
                           {"ended_by", s.ended_by}});
  d["flows"] = json::array();
  for (const Flow& f : t.flows)
    d["flows"].push_back({{"from", f.from},
                          {"to", f.to},
                          {"from_us", f.from_us},
                          {"to_us", f.to_us},
                          {"kind", f.kind}});
  d["markers"] = json::array();
  for (const Marker& m : t.markers)
    d["markers"].push_back({{"strand", m.strand},
                            {"at_us", m.at_us},
                            {"step", m.step},
                            {"kind", m.kind},
                            {"text", m.text}});
  d["end_us"] = t.end_us;
  // Inside a script element only "</" could end it early.
  std::string data = d.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string safe;
  safe.reserve(data.size());
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '<' && i + 1 < data.size() && data[i + 1] == '/') {
      safe += "<\\/";
      ++i;
    } else {
      safe += data[i];
    }
  }
  // The page (replay/timeline_page.html, embedded at build time) holds
  // the data where it says {{WEFT_DATA}}.
  const std::string_view page = kTimelinePage;
  const std::string_view slot = "{{WEFT_DATA}}";
  const std::size_t at = page.find(slot);
  return std::string(page.substr(0, at)) + safe +
         std::string(page.substr(at + slot.size()));
}

}  // namespace weft::replay
