// The records a trace holds, as plain values, and their byte encoding: a
// tag byte then varint fields. Records carry no scheduling logic; sim and
// replay convert their own types to and from these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "traces/varint.h"

namespace weft::traces {

// One scheduler decision (mirrors weft::sim::Choice).
struct ChoiceRecord {
  std::uint8_t kind = 0;
  bool is_value = false;
  std::uint32_t strand = 0;
  std::uint32_t count = 0;
  std::uint32_t chosen = 0;
  std::uint32_t picked = 0;
  bool preemption = false;
  std::uint64_t step = 0;
  friend bool operator==(const ChoiceRecord&, const ChoiceRecord&) = default;
};

struct StrandRecord {
  enum class Event : std::uint8_t { kSpawn = 0, kExit = 1 };
  Event event = Event::kSpawn;
  std::uint32_t strand = 0;
  std::uint32_t parent = 0;
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::string name;
  friend bool operator==(const StrandRecord&, const StrandRecord&) = default;
};

struct EventRecord {
  enum class Kind : std::uint8_t {
    kWorkItem = 0,
    kMessage = 1,
    kTimer = 2,
    kIoReady = 3,
    kFault = 4,
    kWakeup = 5,
  };
  Kind kind = Kind::kWorkItem;
  std::uint32_t strand = 0;
  std::uint32_t peer = 0;  // the other strand of a message or wake-up
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t value = 0;
  std::string detail;
  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

struct FailureRecord {
  std::uint8_t kind = 0;
  std::uint32_t strand = 0;
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  std::string message;
  friend bool operator==(const FailureRecord&, const FailureRecord&) = default;
};

// Virtual time moved to `time_ns` at scheduler step `step`. Written only
// when time changes, so a record without its own time takes the latest.
struct TimeRecord {
  std::uint64_t step = 0;
  std::uint64_t time_ns = 0;
  friend bool operator==(const TimeRecord&, const TimeRecord&) = default;
};

using Record = std::variant<ChoiceRecord, StrandRecord, EventRecord,
                            FailureRecord, TimeRecord>;

// Tags 0-4 are the records above; 5-63 are reserved for later kinds of
// this major version (allocator logs), so an unknown tag is an error. Tag
// values from 64 up are never records: 64 marks a frame in the column
// layout (traces/columns.h).
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
