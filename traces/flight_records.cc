#include "traces/flight_records.h"

#include "traces/fields.h"

namespace weft::traces {

void put_fields(const FlightRecord& f, std::string& out) {
  put_varint(out, static_cast<std::uint8_t>(f.op));
  put_varint(out, f.thread);
  put_varint(out, f.object);
  put_varint(out, f.version);
  put_varint(out, f.value);
}

bool get_fields(ByteReader& in, FlightRecord& f) {
  return fields::get_enum(in, f.op, kMaxFlightOp) &&
         fields::get(in, f.thread) && fields::get(in, f.object) &&
         fields::get(in, f.version) && fields::get(in, f.value);
}

}  // namespace weft::traces
