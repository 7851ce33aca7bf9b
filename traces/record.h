// The records a trace holds and their byte coding: a tag byte then the
// record's fields. This is the container's side only: which kinds exist
// and which tag each has. The kinds themselves, plain values with their
// field coding, are defined beside the domain that writes them:
// traces/schedule_records.h (the schedule and event kinds sim writes) and
// traces/alloc_records.h (the allocator-log kinds). Records carry no
// scheduling logic; sim and replay convert their own types to and from
// these. Consumers dispatch with std::visit and traces/overloaded.h, so a
// kind added here fails to compile wherever it is not handled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "traces/alloc_records.h"
#include "traces/flight_records.h"
#include "traces/net_records.h"
#include "traces/schedule_records.h"
#include "traces/varint.h"

namespace weft::traces {

// A record's tag is its index in this variant: 0 choice, 1 strand, 2
// event, 3 failure, 4 time, 5 alloc, 6 slot, 7 op (format 2.1), 8 flight,
// 9 net (both format 2.2). Tags 10-63 are reserved for later kinds of this
// major version, so an unknown tag is an error. Tag values from 64 up are
// never records: 64 marks a frame in the column layout (traces/columns.h). A
// new kind is appended, with its type's put_fields/get_fields beside it.
using Record = std::variant<ChoiceRecord, StrandRecord, EventRecord,
                            FailureRecord, TimeRecord, AllocRecord, SlotRecord,
                            OpRecord, FlightRecord, NetRecord>;

// The tag of the choice record, which the column layout codes apart.
inline constexpr std::uint8_t kChoiceTag = 0;

void encode(const Record& record, std::string& out);

// Decodes one record; nullopt if the bytes are malformed or the tag is
// unknown (the caller reports where).
std::optional<Record> decode(ByteReader& in);

// The same coding split in two, for the column layout, which keeps the
// tags in a column of their own: a record's tag, and its fields alone.
std::uint8_t tag_of(const Record& record);
void encode_fields(const Record& record, std::string& out);
std::optional<Record> decode_fields(std::uint8_t tag, ByteReader& in);

}  // namespace weft::traces
