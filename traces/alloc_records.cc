#include "traces/alloc_records.h"

#include "traces/fields.h"

namespace weft::traces {

using fields::get;
using fields::get_enum;

void put_fields(const AllocRecord& a, std::string& out) {
  put_varint(out, static_cast<std::uint8_t>(a.call));
  put_varint(out, a.thread);
  put_varint(out, a.seq);
  put_varint(out, a.size);
  put_varint(out, a.align);
  put_varint(out, a.ptr);
  put_varint(out, a.result);
  put_varint(out, a.release_delta);
}

void put_fields(const SlotRecord& l, std::string& out) {
  // The call and the flag share a byte: slot logs are mostly this.
  put_varint(out,
             static_cast<std::uint8_t>(l.call) | (l.from_null ? 0x10u : 0u));
  put_varint(out, l.thread);
  put_varint(out, l.slot);
  put_varint(out, l.size);
  put_varint(out, l.align);
}

bool get_fields(ByteReader& in, AllocRecord& a) {
  return get_enum(in, a.call, kMaxAllocCall) && get(in, a.thread) &&
         get(in, a.seq) && get(in, a.size) && get(in, a.align) &&
         get(in, a.ptr) && get(in, a.result) && get(in, a.release_delta);
}

bool get_fields(ByteReader& in, SlotRecord& l) {
  std::uint8_t call = 0;
  if (!get(in, call) || (call & 0x0f) > kMaxAllocCall || (call & 0xe0) ||
      !get(in, l.thread) || !get(in, l.slot) || !get(in, l.size) ||
      !get(in, l.align))
    return false;
  l.call = static_cast<AllocCall>(call & 0x0f);
  l.from_null = (call & 0x10) != 0;
  return true;
}

}  // namespace weft::traces
