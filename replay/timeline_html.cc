// The HTML export of a Timeline: the data the page (timeline_page.html,
// embedded at build time) draws, as one JSON object in columns. A long run
// is carried in two levels of detail: everything that meets the window of
// steps around the failure, and, for the whole run, how many steps each
// strand ran and spent blocked in each of at most kBuckets buckets of
// steps. The page draws the counts wherever the view holds too much to
// draw one by one, so its size and drawing time stay bounded however
// long the run was.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "replay/timeline.h"
#include "replay/timeline_page.h"

namespace weft::replay {
namespace {

using nlohmann::json;

constexpr std::uint64_t kBuckets = 2048;

bool meets(std::uint64_t first, std::uint64_t last, const HtmlWindow& w) {
  return last >= w.first && first <= w.last;
}

// Steps [first, end): a stretch ends where the next begins.
bool meets_stretch(std::uint64_t first, std::uint64_t end,
                   const HtmlWindow& w) {
  return meets(first, end > first ? end - 1 : first, w);
}

// Steps each lane ran and spent blocked, per bucket of `size` steps.
json overview(const Timeline& t, std::uint64_t size) {
  const std::uint64_t n = (t.end_step + size - 1) / size;
  std::vector<std::vector<std::uint64_t>> run(t.lanes.size(),
                                              std::vector<std::uint64_t>(n, 0));
  std::vector<std::vector<std::uint64_t>> blocked = run;
  auto spread = [&](std::vector<std::uint64_t>& into, std::uint64_t from,
                    std::uint64_t to) {
    // Steps [from, to) into their buckets.
    while (from < to) {
      const std::uint64_t b = from / size;
      const std::uint64_t end = std::min(to, (b + 1) * size);
      if (b < into.size()) into[b] += end - from;
      from = end;
    }
  };
  for (const Slice& s : t.slices)
    spread(run[s.strand], s.first_step,
           std::max(s.last_step, s.first_step + 1));
  for (const Blocked& b : t.blocked)
    spread(blocked[b.strand], b.from_step, b.to_step);
  return {{"bucket", size}, {"run", run}, {"blocked", blocked}};
}

// The texts the page needs, renumbered densely: a long run may hold many
// distinct ones, the window few.
class TextTable {
 public:
  explicit TextTable(const Timeline& t) : all_(t.texts) {}
  std::uint32_t operator()(std::uint32_t text) {
    const auto [it, added] =
        ids_.try_emplace(text, static_cast<std::uint32_t>(used_.size()));
    if (added) used_.push_back(all_[text]);
    return it->second;
  }
  const std::vector<std::string>& used() const { return used_; }

 private:
  const std::vector<std::string>& all_;
  std::unordered_map<std::uint32_t, std::uint32_t> ids_;
  std::vector<std::string> used_;
};

json columns(const Timeline& t, const HtmlWindow& w) {
  TextTable text(t);
  text(0);  // "" stays 0
  json slices = {{"strand", json::array()},
                 {"first", json::array()},
                 {"last", json::array()},
                 {"ended", json::array()}};
  for (const Slice& s : t.slices) {
    if (!meets_stretch(s.first_step, s.last_step, w)) continue;
    slices["strand"].push_back(s.strand);
    slices["first"].push_back(s.first_step);
    slices["last"].push_back(s.last_step);
    slices["ended"].push_back(s.ended_by);
  }
  json ops = {{"strand", json::array()}, {"step", json::array()},
              {"text", json::array()},   {"where", json::array()},
              {"kind", json::array()},   {"value", json::array()}};
  for (const Op& o : t.ops) {
    if (!meets(o.step, o.step, w)) continue;
    ops["strand"].push_back(o.strand);
    ops["step"].push_back(o.step);
    ops["text"].push_back(text(o.text));
    ops["where"].push_back(text(o.where));
    ops["kind"].push_back(o.kind);
    // A value as a string: a 64-bit one would lose digits as a JS number.
    if (!o.has_value)
      ops["value"].push_back(nullptr);
    else if (o.is_signed)
      ops["value"].push_back(
          std::to_string(static_cast<std::int64_t>(o.value)));
    else
      ops["value"].push_back(std::to_string(o.value));
  }
  json blocked = {{"strand", json::array()},
                  {"from", json::array()},
                  {"to", json::array()},
                  {"text", json::array()},
                  {"where", json::array()}};
  for (const Blocked& b : t.blocked) {
    if (!meets_stretch(b.from_step, b.to_step, w)) continue;
    blocked["strand"].push_back(b.strand);
    blocked["from"].push_back(b.from_step);
    blocked["to"].push_back(b.to_step);
    blocked["text"].push_back(text(b.text));
    blocked["where"].push_back(text(b.where));
  }
  json flows = {{"from", json::array()},
                {"to", json::array()},
                {"from_step", json::array()},
                {"to_step", json::array()},
                {"kind", json::array()}};
  for (const Flow& f : t.flows) {
    if (!meets(f.from_step, f.to_step, w)) continue;
    flows["from"].push_back(f.from);
    flows["to"].push_back(f.to);
    flows["from_step"].push_back(f.from_step);
    flows["to_step"].push_back(f.to_step);
    flows["kind"].push_back(f.kind);
  }
  json markers = json::array();
  for (const Marker& m : t.markers)
    if (m.kind == "failure" || meets(m.step, m.step, w))
      markers.push_back({{"strand", m.strand},
                         {"step", m.step},
                         {"kind", m.kind},
                         {"text", m.text}});
  return {{"slices", slices}, {"ops", ops},         {"blocked", blocked},
          {"flows", flows},   {"markers", markers}, {"texts", text.used()}};
}

// Inside a script element only "</" could end it early.
std::string script_safe(const std::string& data) {
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
  return safe;
}

}  // namespace

HtmlWindow default_window(const Timeline& t, std::uint64_t max_steps) {
  if (t.end_step <= max_steps) return {0, t.end_step};
  const std::uint64_t focus = t.failed ? t.failure_step : t.end_step;
  const std::uint64_t last = std::min(t.end_step, focus + max_steps / 20);
  const std::uint64_t first = last > max_steps ? last - max_steps : 0;
  return {first, last};
}

std::string to_html(const Timeline& t) { return to_html(t, default_window(t)); }

std::string to_html(const Timeline& t, const HtmlWindow& w) {
  json d = columns(t, w);
  d["metadata"] = json::array();
  for (const auto& [k, v] : t.header.metadata)
    d["metadata"].push_back(json::array({k, v}));
  d["lanes"] = json::array();
  for (const Lane& l : t.lanes)
    d["lanes"].push_back({{"strand", l.strand}, {"name", l.name}});
  d["involved"] = t.involved;
  d["failure_step"] = t.failed ? json(t.failure_step) : json(nullptr);
  d["end_step"] = t.end_step;
  d["window"] = {w.first, w.last};
  // Virtual time at each change, thinned to what labels can use.
  json times = json::array();
  const std::size_t stride = std::max<std::size_t>(1, t.times.size() / 4096);
  for (std::size_t i = 0; i < t.times.size(); ++i)
    if (i % stride == 0 || meets(t.times[i].first, t.times[i].first, w))
      times.push_back({t.times[i].first, t.times[i].second});
  d["times"] = times;
  const std::uint64_t size =
      std::max<std::uint64_t>(1, (t.end_step + kBuckets - 1) / kBuckets);
  d["overview"] = overview(t, size);
  const std::string data =
      script_safe(d.dump(-1, ' ', false, json::error_handler_t::replace));
  // The page holds the data where it says {{WEFT_DATA}}.
  const std::string_view page = kTimelinePage;
  const std::string_view slot = "{{WEFT_DATA}}";
  const std::size_t at = page.find(slot);
  return std::string(page.substr(0, at)) + data +
         std::string(page.substr(at + slot.size()));
}

}  // namespace weft::replay
