// A schedule trace laid out for the eye: one lane per strand, a slice for
// each stretch a strand ran between two switches, arrows for wake-ups and
// messages, markers for value choices, timers and the failure. Built by
// streaming a trace once; exported as Chrome/Perfetto trace-event JSON or
// as one self-contained HTML page.
//
// Time on the timeline: virtual time in microseconds plus one microsecond
// per scheduler step, so that work done at a single virtual instant (most
// of a test) is spread out in step order and never overlaps.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "traces/format.h"
#include "traces/reader.h"

namespace weft::replay {

struct Lane {
  std::uint32_t strand = 0;
  std::string name;
  bool exited = false;
};

struct Slice {
  std::uint32_t strand = 0;
  double start_us = 0;
  double end_us = 0;
  std::uint64_t first_step = 0;
  std::uint64_t last_step = 0;
  std::string ended_by;  // the choice kind that switched away, or "exit"
};

// An arrow from one lane to another: a wake-up or a message.
struct Flow {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  double from_us = 0;
  double to_us = 0;  // when the target next ran
  std::string kind;  // "wake-up", "message", ...
};

// A point on one lane: a value choice, a timer firing, the failure.
struct Marker {
  std::uint32_t strand = 0;
  double at_us = 0;
  std::uint64_t step = 0;
  std::string kind;  // "choice", "timer", "failure", ...
  std::string text;
};

struct Timeline {
  traces::TraceHeader header;
  std::vector<Lane> lanes;  // by strand id
  std::vector<Slice> slices;
  std::vector<Flow> flows;
  std::vector<Marker> markers;
  double end_us = 0;
};

// Reads `reader` to its end. `progress`, if set, is called now and then
// with the bytes read so far.
Timeline build_timeline(
    traces::TraceReader& reader,
    const std::function<void(std::uint64_t)>& progress = nullptr);

// Chrome trace-event JSON (what ui.perfetto.dev and chrome://tracing open).
std::string to_perfetto_json(const Timeline& timeline);

// One HTML page with the timeline drawn as SVG by inline script: no
// network access, nothing else to ship.
std::string to_html(const Timeline& timeline);

}  // namespace weft::replay
