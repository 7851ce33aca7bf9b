// A schedule trace laid out for the eye: one lane per strand, a slice for
// each stretch a strand ran between two switches, arrows for wake-ups and
// messages, markers for value choices, timers and the failure. Built by
// streaming a trace once; exported as Chrome/Perfetto trace-event JSON or
// as one self-contained HTML page.
//
// Time on the Perfetto timeline: virtual time in microseconds plus one
// microsecond per scheduler step, so that work done at a single virtual
// instant (most of a test) is spread out in step order and never overlaps.
// The HTML page lays steps out evenly instead and labels virtual time
// under them; it carries every detail only for a window of steps around
// the failure, and counts per bucket of steps for the rest (timeline_html.cc).
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
  std::uint64_t from_step = 0;
  std::uint64_t to_step = 0;
};

// A point on one lane: a value choice, a timer firing, the failure.
struct Marker {
  std::uint32_t strand = 0;
  double at_us = 0;
  std::uint64_t step = 0;
  std::string kind;  // "choice", "timer", "failure", ...
  std::string text;
};

// What a strand did at a step (a trace's op records): "lock mutex 'a'",
// "load atomic = 5", with its source line. Texts are interned in
// Timeline::texts; 0 is "".
struct Op {
  std::uint32_t strand = 0;
  std::uint64_t step = 0;
  std::uint32_t text = 0;  // the op without its value
  std::uint32_t where = 0;
  std::uint8_t kind = 0;  // a ChoiceRecordKind's byte
  bool has_value = false;
  bool is_signed = false;
  std::uint64_t value = 0;
};

// A stretch a strand spent blocked: from the step it blocked to the step
// it next ran (or the end of the run), and what it waited on.
struct Blocked {
  std::uint32_t strand = 0;
  std::uint64_t from_step = 0;
  std::uint64_t to_step = 0;
  std::uint32_t text = 0;   // "lock mutex 'a' held by strand 'b'"
  std::uint32_t where = 0;  // "dir/file.cc:42"
};

struct Timeline {
  traces::TraceHeader header;
  std::vector<Lane> lanes;  // by strand id
  std::vector<Slice> slices;
  std::vector<Flow> flows;
  std::vector<Marker> markers;
  double end_us = 0;
  std::vector<Op> ops;
  std::vector<Blocked> blocked;  // by start step
  std::vector<std::string> texts{""};
  // (step, virtual time in ns) at each change of virtual time.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> times{{0, 0}};
  std::uint64_t end_step = 0;
  // The failure's step and the strands it involves: the one that failed,
  // those blocked when it failed, and the last to wake or message it.
  bool failed = false;
  std::uint64_t failure_step = 0;
  std::vector<std::uint32_t> involved;
};

// What the HTML page carries in full: steps [first, last] (every slice,
// op, blocked stretch, arrow and marker that meets them); the rest of the
// run is drawn from counts per bucket of steps.
struct HtmlWindow {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
// The default window: the whole run if it has at most `max_steps` steps,
// else the `max_steps` steps that end just after the failure (or the run).
HtmlWindow default_window(const Timeline& timeline,
                          std::uint64_t max_steps = 20000);

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
std::string to_html(const Timeline& timeline, const HtmlWindow& window);

}  // namespace weft::replay
