#include "traces/alloc_records.h"

#include "traces/fields.h"

namespace weft::traces {

using fields::get;

namespace {

// The first varint of both kinds holds the call in bits 0-3 and flags:
// bit 4 realloc from NULL (slot records only), bit 5 a time follows the
// other fields (format 2.3).
constexpr unsigned kFromNull = 0x10;
constexpr unsigned kTimed = 0x20;

bool get_call(ByteReader& in, AllocCall& call, unsigned allowed,
              unsigned& flags) {
  std::uint8_t v = 0;
  if (!get(in, v) || (v & 0x0f) > kMaxAllocCall || (v & 0xf0 & ~allowed))
    return false;
  call = static_cast<AllocCall>(v & 0x0f);
  flags = v & 0xf0;
  return true;
}

bool get_time(ByteReader& in, unsigned flags, bool& timed,
              std::uint64_t& time_ns) {
  timed = (flags & kTimed) != 0;
  return !timed || get(in, time_ns);
}

// A record's varints, coded on the stack and appended to the output at
// once (a push_back per byte was a sixth of the recording parent's time).
struct Row {
  char bytes[10 * 10];
  std::size_t size = 0;
  void put(std::uint64_t v) {
    while (v >= 0x80) {
      bytes[size++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes[size++] = static_cast<char>(v);
  }
};

}  // namespace

void put_fields(const AllocRecord& a, std::string& out) {
  Row row;
  row.put(static_cast<std::uint8_t>(a.call) | (a.timed ? kTimed : 0u));
  row.put(a.thread);
  row.put(a.seq);
  row.put(a.size);
  row.put(a.align);
  row.put(a.ptr);
  row.put(a.result);
  row.put(a.release_delta);
  if (a.timed) row.put(a.time_ns);
  out.append(row.bytes, row.size);
}

void put_fields(const SlotRecord& l, std::string& out) {
  // The call and the flag share a byte: slot logs are mostly this.
  Row row;
  row.put(static_cast<std::uint8_t>(l.call) | (l.from_null ? kFromNull : 0u) |
          (l.timed ? kTimed : 0u));
  row.put(l.thread);
  row.put(l.slot);
  row.put(l.size);
  row.put(l.align);
  if (l.timed) row.put(l.time_ns);
  out.append(row.bytes, row.size);
}

bool get_fields(ByteReader& in, AllocRecord& a) {
  unsigned flags = 0;
  return get_call(in, a.call, kTimed, flags) && get(in, a.thread) &&
         get(in, a.seq) && get(in, a.size) && get(in, a.align) &&
         get(in, a.ptr) && get(in, a.result) && get(in, a.release_delta) &&
         get_time(in, flags, a.timed, a.time_ns);
}

bool get_fields(ByteReader& in, SlotRecord& l) {
  unsigned flags = 0;
  if (!get_call(in, l.call, kFromNull | kTimed, flags) || !get(in, l.thread) ||
      !get(in, l.slot) || !get(in, l.size) || !get(in, l.align))
    return false;
  l.from_null = (flags & kFromNull) != 0;
  return get_time(in, flags, l.timed, l.time_ns);
}

}  // namespace weft::traces
