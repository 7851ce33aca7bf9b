#include "traces/record.h"

#include <type_traits>
#include <utility>

namespace weft::traces {
namespace {

// The tags are part of the file format: a kind keeps its index in Record.
static_assert(
    std::is_same_v<std::variant_alternative_t<0, Record>, ChoiceRecord> &&
    std::is_same_v<std::variant_alternative_t<1, Record>, StrandRecord> &&
    std::is_same_v<std::variant_alternative_t<2, Record>, EventRecord> &&
    std::is_same_v<std::variant_alternative_t<3, Record>, FailureRecord> &&
    std::is_same_v<std::variant_alternative_t<4, Record>, TimeRecord> &&
    std::is_same_v<std::variant_alternative_t<5, Record>, AllocRecord> &&
    std::is_same_v<std::variant_alternative_t<6, Record>, SlotRecord> &&
    std::is_same_v<std::variant_alternative_t<7, Record>, OpRecord> &&
    std::is_same_v<std::variant_alternative_t<8, Record>, FlightRecord> &&
    std::is_same_v<std::variant_alternative_t<9, Record>, NetRecord>);
static_assert(std::is_same_v<std::variant_alternative_t<kChoiceTag, Record>,
                             ChoiceRecord>);
static_assert(std::variant_size_v<Record> <= 64,
              "tags from 64 up are never records");

// Decodes the fields of the kind whose tag is I or later.
template <std::size_t I = 0>
std::optional<Record> decode_kind(std::uint8_t tag, ByteReader& in) {
  if constexpr (I == std::variant_size_v<Record>) {
    return std::nullopt;  // an unknown tag
  } else {
    if (tag != I) return decode_kind<I + 1>(tag, in);
    std::variant_alternative_t<I, Record> record;
    if (!get_fields(in, record)) return std::nullopt;
    return Record(std::in_place_index<I>, std::move(record));
  }
}

}  // namespace

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
  std::visit([&](const auto& r) { put_fields(r, out); }, record);
}

std::optional<Record> decode_fields(std::uint8_t tag, ByteReader& in) {
  return decode_kind(tag, in);
}

}  // namespace weft::traces
