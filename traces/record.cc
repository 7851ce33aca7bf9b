#include "traces/record.h"

#include <limits>
#include <type_traits>

namespace weft::traces {
namespace {

enum Tag : std::uint8_t {
  kChoice = 0,
  kStrand = 1,
  kEvent = 2,
  kFailure = 3,
  kTime = 4,
  kAlloc = 5,
  kSlot = 6,
};

// Strings inside one record are bounded so that a corrupt length cannot
// ask for gigabytes.
constexpr std::uint64_t kMaxString = 1 << 20;

void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

template <class T>
bool get(ByteReader& in, T& field) {
  const auto v = in.varint();
  if (!v || *v > std::numeric_limits<T>::max()) return false;
  field = static_cast<T>(*v);
  return true;
}

bool get_string(ByteReader& in, std::string& field) {
  const auto n = in.varint();
  if (!n || *n > kMaxString) return false;
  auto s = in.bytes(static_cast<std::size_t>(*n));
  if (!s) return false;
  field = std::move(*s);
  return true;
}

template <class E>
bool get_enum(ByteReader& in, E& field, std::uint8_t max) {
  std::uint8_t v = 0;
  if (!get(in, v) || v > max) return false;
  field = static_cast<E>(v);
  return true;
}

}  // namespace

// The variant's alternatives are in tag order, so the tag is the index
// (kinds added later, such as allocator-log records, keep this order).
static_assert(
    std::is_same_v<std::variant_alternative_t<kChoice, Record>, ChoiceRecord> &&
    std::is_same_v<std::variant_alternative_t<kStrand, Record>, StrandRecord> &&
    std::is_same_v<std::variant_alternative_t<kEvent, Record>, EventRecord> &&
    std::is_same_v<std::variant_alternative_t<kFailure, Record>,
                   FailureRecord> &&
    std::is_same_v<std::variant_alternative_t<kTime, Record>, TimeRecord> &&
    std::is_same_v<std::variant_alternative_t<kAlloc, Record>, AllocRecord> &&
    std::is_same_v<std::variant_alternative_t<kSlot, Record>, SlotRecord>);

std::uint8_t tag_of(const Record& record) {
  return static_cast<std::uint8_t>(record.index());
}

void encode(const Record& record, std::string& out) {
  out.push_back(static_cast<char>(tag_of(record)));
  encode_fields(record, out);
}

std::optional<Record> decode(ByteReader& in) {
  const auto tag = in.byte();
  if (!tag) return std::nullopt;
  return decode_fields(*tag, in);
}

void encode_fields(const Record& record, std::string& out) {
  if (const auto* c = std::get_if<ChoiceRecord>(&record)) {
    put_varint(out, c->kind);
    put_varint(out, (c->is_value ? 1u : 0u) | (c->preemption ? 2u : 0u));
    put_varint(out, c->strand);
    put_varint(out, c->count);
    put_varint(out, c->chosen);
    put_varint(out, c->picked);
    put_varint(out, c->step);
  } else if (const auto* s = std::get_if<StrandRecord>(&record)) {
    put_varint(out, static_cast<std::uint8_t>(s->event));
    put_varint(out, s->strand);
    put_varint(out, s->parent);
    put_varint(out, s->step);
    put_varint(out, s->time_ns);
    put_string(out, s->name);
  } else if (const auto* e = std::get_if<EventRecord>(&record)) {
    put_varint(out, static_cast<std::uint8_t>(e->kind));
    put_varint(out, e->strand);
    put_varint(out, e->peer);
    put_varint(out, e->step);
    put_varint(out, e->time_ns);
    put_varint(out, e->value);
    put_string(out, e->detail);
  } else if (const auto* f = std::get_if<FailureRecord>(&record)) {
    put_varint(out, f->kind);
    put_varint(out, f->strand);
    put_varint(out, f->step);
    put_varint(out, f->time_ns);
    put_string(out, f->message);
  } else if (const auto* t = std::get_if<TimeRecord>(&record)) {
    put_varint(out, t->step);
    put_varint(out, t->time_ns);
  } else if (const auto* a = std::get_if<AllocRecord>(&record)) {
    put_varint(out, static_cast<std::uint8_t>(a->call));
    put_varint(out, a->thread);
    put_varint(out, a->seq);
    put_varint(out, a->size);
    put_varint(out, a->align);
    put_varint(out, a->ptr);
    put_varint(out, a->result);
    put_varint(out, a->release_delta);
  } else if (const auto* l = std::get_if<SlotRecord>(&record)) {
    // The call and the flag share a byte: slot logs are mostly this.
    put_varint(
        out, static_cast<std::uint8_t>(l->call) | (l->from_null ? 0x10u : 0u));
    put_varint(out, l->thread);
    put_varint(out, l->slot);
    put_varint(out, l->size);
    put_varint(out, l->align);
  }
}

std::optional<Record> decode_fields(std::uint8_t tag, ByteReader& in) {
  switch (tag) {
    case kChoice: {
      ChoiceRecord c;
      std::uint8_t flags = 0;
      if (!get(in, c.kind) || !get(in, flags) || flags > 3 ||
          !get(in, c.strand) || !get(in, c.count) || !get(in, c.chosen) ||
          !get(in, c.picked) || !get(in, c.step))
        return std::nullopt;
      c.is_value = (flags & 1) != 0;
      c.preemption = (flags & 2) != 0;
      return c;
    }
    case kStrand: {
      StrandRecord s;
      if (!get_enum(in, s.event, 1) || !get(in, s.strand) ||
          !get(in, s.parent) || !get(in, s.step) || !get(in, s.time_ns) ||
          !get_string(in, s.name))
        return std::nullopt;
      return s;
    }
    case kEvent: {
      EventRecord e;
      if (!get_enum(in, e.kind, 5) || !get(in, e.strand) || !get(in, e.peer) ||
          !get(in, e.step) || !get(in, e.time_ns) || !get(in, e.value) ||
          !get_string(in, e.detail))
        return std::nullopt;
      return e;
    }
    case kFailure: {
      FailureRecord f;
      if (!get(in, f.kind) || !get(in, f.strand) || !get(in, f.step) ||
          !get(in, f.time_ns) || !get_string(in, f.message))
        return std::nullopt;
      return f;
    }
    case kTime: {
      TimeRecord t;
      if (!get(in, t.step) || !get(in, t.time_ns)) return std::nullopt;
      return t;
    }
    case kAlloc: {
      AllocRecord a;
      if (!get_enum(in, a.call, kMaxAllocCall) || !get(in, a.thread) ||
          !get(in, a.seq) || !get(in, a.size) || !get(in, a.align) ||
          !get(in, a.ptr) || !get(in, a.result) || !get(in, a.release_delta))
        return std::nullopt;
      return a;
    }
    case kSlot: {
      SlotRecord l;
      std::uint8_t call = 0;
      if (!get(in, call) || (call & 0x0f) > kMaxAllocCall || (call & 0xe0) ||
          !get(in, l.thread) || !get(in, l.slot) || !get(in, l.size) ||
          !get(in, l.align))
        return std::nullopt;
      l.call = static_cast<AllocCall>(call & 0x0f);
      l.from_null = (call & 0x10) != 0;
      return l;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace weft::traces
