#include "traces/schedule_records.h"

#include "traces/fields.h"

namespace weft::traces {

using fields::get;
using fields::get_enum;
using fields::get_string;
using fields::put_string;

void put_fields(const ChoiceRecord& c, std::string& out) {
  put_varint(out, c.kind);
  put_varint(out, (c.is_value ? 1u : 0u) | (c.preemption ? 2u : 0u));
  put_varint(out, c.strand);
  put_varint(out, c.count);
  put_varint(out, c.chosen);
  put_varint(out, c.picked);
  put_varint(out, c.step);
}

void put_fields(const StrandRecord& s, std::string& out) {
  put_varint(out, static_cast<std::uint8_t>(s.event));
  put_varint(out, s.strand);
  put_varint(out, s.parent);
  put_varint(out, s.step);
  put_varint(out, s.time_ns);
  put_string(out, s.name);
}

void put_fields(const EventRecord& e, std::string& out) {
  put_varint(out, static_cast<std::uint8_t>(e.kind));
  put_varint(out, e.strand);
  put_varint(out, e.peer);
  put_varint(out, e.step);
  put_varint(out, e.time_ns);
  put_varint(out, e.value);
  put_string(out, e.detail);
}

void put_fields(const FailureRecord& f, std::string& out) {
  put_varint(out, f.kind);
  put_varint(out, f.strand);
  put_varint(out, f.step);
  put_varint(out, f.time_ns);
  put_string(out, f.message);
}

void put_fields(const TimeRecord& t, std::string& out) {
  put_varint(out, t.step);
  put_varint(out, t.time_ns);
}

void put_fields(const OpRecord& o, std::string& out) {
  put_varint(out, o.kind);
  put_varint(out, (o.has_value ? 1u : 0u) | (o.is_signed ? 2u : 0u) |
                      (o.blocks ? 4u : 0u));
  put_varint(out, o.strand);
  put_varint(out, o.step);
  put_varint(out, o.value);
  put_string(out, o.what);
  put_string(out, o.where);
}

bool get_fields(ByteReader& in, ChoiceRecord& c) {
  std::uint8_t flags = 0;
  if (!get(in, c.kind) || !get(in, flags) || flags > 3 || !get(in, c.strand) ||
      !get(in, c.count) || !get(in, c.chosen) || !get(in, c.picked) ||
      !get(in, c.step))
    return false;
  c.is_value = (flags & 1) != 0;
  c.preemption = (flags & 2) != 0;
  return true;
}

bool get_fields(ByteReader& in, StrandRecord& s) {
  return get_enum(in, s.event, 1) && get(in, s.strand) && get(in, s.parent) &&
         get(in, s.step) && get(in, s.time_ns) && get_string(in, s.name);
}

bool get_fields(ByteReader& in, EventRecord& e) {
  return get_enum(in, e.kind, EventRecord::kMaxKind) && get(in, e.strand) &&
         get(in, e.peer) && get(in, e.step) && get(in, e.time_ns) &&
         get(in, e.value) && get_string(in, e.detail);
}

bool get_fields(ByteReader& in, FailureRecord& f) {
  return get(in, f.kind) && get(in, f.strand) && get(in, f.step) &&
         get(in, f.time_ns) && get_string(in, f.message);
}

bool get_fields(ByteReader& in, TimeRecord& t) {
  return get(in, t.step) && get(in, t.time_ns);
}

bool get_fields(ByteReader& in, OpRecord& o) {
  std::uint8_t flags = 0;
  if (!get(in, o.kind) || !get(in, flags) || flags > 7 || !get(in, o.strand) ||
      !get(in, o.step) || !get(in, o.value) || !get_string(in, o.what) ||
      !get_string(in, o.where))
    return false;
  o.has_value = (flags & 1) != 0;
  o.is_signed = (flags & 2) != 0;
  o.blocks = (flags & 4) != 0;
  return true;
}

}  // namespace weft::traces
