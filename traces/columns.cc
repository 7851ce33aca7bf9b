#include "traces/columns.h"

#include <bit>
#include <limits>

namespace weft::traces {
namespace {

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();

// Whether one more digit of base `count` fits a mixed-radix word whose
// digits so far make values up to `max`: the new largest value
// max * count + count - 1 must not pass 2^64 - 1.
bool fits(std::uint64_t max, std::uint32_t count) {
  return max <= (kMax64 - (count - 1)) / count;
}

// Bytes of a word whose largest value is `max`: a word of 64 binary
// digits takes 8, one of 40 ternary digits (3^40 < 2^64) takes 8 too.
int word_bytes(std::uint64_t max) { return (std::bit_width(max) + 7) / 8; }

}  // namespace

void ColumnEncoder::add(const Record& record) {
  ++records_;
  const std::uint8_t tag = tag_of(record);
  if (tag == kChoiceTag) {
    add_choice(std::get<ChoiceRecord>(record));
  } else {
    columns_[kHeadsColumn].push_back(static_cast<char>(kOtherRecord | tag));
    encode_fields(record, columns_[kRowsColumn]);
  }
}

std::uint32_t ChoicePredictor::picked(bool is_value, std::uint32_t count,
                                      std::uint32_t chosen) const {
  if (is_value) return chosen;
  if (count >= 1 && count <= kTable && chosen < count &&
      (known_[count - 1] >> chosen & 1) != 0)
    return picks_[(count - 1) * kTable + chosen];
  return chosen + shift_;
}

void ChoicePredictor::update(const ChoiceRecord& c) {
  last_ = c;
  started_ = true;
  if (c.is_value) return;
  shift_ = c.picked - c.chosen;
  if (c.count >= 1 && c.count <= kTable && c.chosen < c.count) {
    known_[c.count - 1] =
        static_cast<std::uint16_t>(known_[c.count - 1] | 1u << c.chosen);
    picks_[(c.count - 1) * kTable + c.chosen] = c.picked;
  }
}

void ColumnEncoder::add_choice(const ChoiceRecord& c) {
  const ChoiceRecord& last = predictor_.last();
  std::uint8_t mask = 0;
  if (c.kind != last.kind) {
    mask |= kKindMissed;
    columns_[kKindsColumn].push_back(static_cast<char>(c.kind));
  }
  if (c.is_value != last.is_value) mask |= kIsValueMissed;
  if (c.strand != last.picked) {
    mask |= kStrandMissed;
    put_varint(columns_[kStrandsColumn], c.strand);
  }
  if (c.count != last.count) {
    mask |= kCountMissed;
    put_varint(columns_[kCountsColumn], c.count);
  }
  if (c.picked != predictor_.picked(c.is_value, c.count, c.chosen)) {
    mask |= kPickedMissed;
    put_varint(columns_[kPickedColumn], c.picked);
  }
  if (c.step != predictor_.next_step()) {
    mask |= kStepMissed;
    put_varint(
        columns_[kStepsColumn],
        zigzag(static_cast<std::int64_t>(c.step - predictor_.next_step())));
  }
  if (c.preemption !=
      ChoicePredictor::preemption(c.is_value, c.strand, c.picked))
    mask |= kPreemptionMissed;
  columns_[kHeadsColumn].push_back(static_cast<char>(mask));
  if (c.count == 0 || c.chosen >= c.count) {
    // Not a digit of base `count`: listed apart, so it still round-trips.
    put_varint(exception_pairs_, choices_ - next_exception_);
    put_varint(exception_pairs_, c.chosen);
    next_exception_ = choices_ + 1;
    ++exceptions_;
  } else if (c.count >= 2) {  // a forced choice (count 1) carries nothing
    if (!fits(radix_max_, c.count)) flush_radix();
    radix_value_ += c.chosen * (radix_max_ + 1);
    radix_max_ = radix_max_ * c.count + (c.count - 1);
  }
  predictor_.update(c);
  ++choices_;
}

void ColumnEncoder::flush_radix() {
  auto& out = columns_[kRadixColumn];
  const int n = word_bytes(radix_max_);
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>(radix_value_ >> (8 * i)));
  radix_value_ = 0;
  radix_max_ = 0;
}

void ColumnEncoder::finish(std::string& out) {
  flush_radix();
  put_varint(columns_[kExceptionsColumn], exceptions_);
  columns_[kExceptionsColumn] += exception_pairs_;
  put_varint(out, records_);
  out.push_back(static_cast<char>(kColumnMarker));
  for (const auto& column : columns_) put_varint(out, column.size());
  for (auto& column : columns_) {
    out += column;
    column.clear();  // keeps its capacity for the next frame
  }
  exception_pairs_.clear();
  records_ = 0;
  predictor_ = ChoicePredictor{};
  choices_ = 0;
  exceptions_ = 0;
  next_exception_ = 0;
}

bool ColumnDecoder::Exceptions::advance() {
  if (left == 0) {
    at.reset();
    return true;
  }
  const auto gap = in.varint();
  const auto value = in.varint();
  if (!gap || !value || *value > kMax32 || *gap > kMax64 - next_index)
    return false;
  --left;
  at = next_index + *gap;
  next_index = *at + 1;
  chosen = static_cast<std::uint32_t>(*value);
  return true;
}

bool ColumnDecoder::start(const char* data, std::size_t size,
                          std::uint64_t records) {
  ByteReader in(data, size);
  std::array<std::uint64_t, kColumnCount> lengths{};
  std::uint64_t total = 0;
  for (auto& length : lengths) {
    const auto n = in.varint();
    if (!n || *n > size) {
      error_ = "bad column length";
      return false;
    }
    length = *n;
    total += *n;  // at most kColumnCount * size: no overflow
  }
  if (total != size - in.pos()) {
    error_ = "column lengths do not add up to the frame's size";
    return false;
  }
  if (lengths[kHeadsColumn] != records) {
    error_ = "heads column length differs from the record count";
    return false;
  }
  const char* p = data + in.pos();
  for (std::size_t i = 0; i < kColumnCount; ++i) {
    columns_[i] = ByteReader(p, static_cast<std::size_t>(lengths[i]));
    p += lengths[i];
  }
  records_ = records;
  exceptions_ = Exceptions{};
  exceptions_.in = columns_[kExceptionsColumn];
  const auto count = exceptions_.in.varint();
  if (!count || *count > lengths[kExceptionsColumn]) {
    error_ = "bad exception count";
    return false;
  }
  exceptions_.left = *count;
  if (!exceptions_.advance()) {
    error_ = "malformed exception list";
    return false;
  }
  return true;
}

std::optional<Record> ColumnDecoder::fail(const char* why) {
  error_ = why;
  return std::nullopt;
}

std::optional<Record> ColumnDecoder::next() {
  if (decoded_ >= records_) return fail("more records asked for than held");
  ++decoded_;
  const auto head = columns_[kHeadsColumn].byte();
  if (!head) return fail("heads column too short");
  if ((*head & kOtherRecord) == 0) return next_choice(*head);
  const std::uint8_t tag = *head & ~kOtherRecord;
  if (tag == kChoiceTag) return fail("a choice's tag in a record head");
  auto record = decode_fields(tag, columns_[kRowsColumn]);
  if (!record) return fail("bad record in the rows column");
  return record;
}

std::optional<std::uint32_t> ColumnDecoder::read_count(ByteReader& counts,
                                                       std::uint8_t mask,
                                                       std::uint32_t last) {
  if ((mask & kCountMissed) == 0) return last;
  const auto count = counts.varint();
  if (!count || *count > kMax32) return std::nullopt;
  return static_cast<std::uint32_t>(*count);
}

std::optional<Record> ColumnDecoder::next_choice(std::uint8_t mask) {
  const ChoiceRecord& last = predictor_.last();
  // A field the mask says was mispredicted is read from its column (the
  // encoder wrote it only then), else it is the prediction.
  auto read32 = [&](ColumnId column, std::uint32_t& field) {
    const auto v = columns_[column].varint();
    if (!v || *v > kMax32) return false;
    field = static_cast<std::uint32_t>(*v);
    return true;
  };
  ChoiceRecord c;
  c.kind = last.kind;
  if ((mask & kKindMissed) != 0) {
    const auto kind = columns_[kKindsColumn].byte();
    if (!kind || *kind == last.kind) return fail("bad kinds column");
    c.kind = *kind;
  }
  c.is_value = last.is_value != ((mask & kIsValueMissed) != 0);
  c.strand = last.picked;
  if ((mask & kStrandMissed) != 0 &&
      (!read32(kStrandsColumn, c.strand) || c.strand == last.picked))
    return fail("bad strands column");
  const auto count = read_count(columns_[kCountsColumn], mask, last.count);
  if (!count || ((mask & kCountMissed) != 0 && *count == last.count))
    return fail("bad counts column");
  c.count = *count;
  if (exceptions_.at == choices_) {
    c.chosen = exceptions_.chosen;
    if (c.count != 0 && c.chosen < c.count)
      return fail("an exception lists a chosen index that fits its count");
    if (!exceptions_.advance()) return fail("malformed exception list");
  } else if (c.count == 0) {
    return fail("a choice among 0 alternatives is not listed as exception");
  } else if (!next_chosen(c.count, c.chosen)) {
    // (next_chosen may look ahead: the cursors are past this choice's
    // mask, count and exception, as it needs.)
    return std::nullopt;
  }
  const std::uint32_t picked = predictor_.picked(c.is_value, c.count, c.chosen);
  c.picked = picked;
  if ((mask & kPickedMissed) != 0 &&
      (!read32(kPickedColumn, c.picked) || c.picked == picked))
    return fail("bad picked column");
  c.step = predictor_.next_step();
  if ((mask & kStepMissed) != 0) {
    const auto delta = columns_[kStepsColumn].varint();
    if (!delta || *delta == 0) return fail("bad steps column");
    c.step += static_cast<std::uint64_t>(unzigzag(*delta));
  }
  c.preemption = ChoicePredictor::preemption(c.is_value, c.strand, c.picked) !=
                 ((mask & kPreemptionMissed) != 0);
  predictor_.update(c);
  ++choices_;
  return c;
}

bool ColumnDecoder::next_chosen(std::uint32_t count, std::uint32_t& chosen) {
  if (count == 1) {
    chosen = 0;
    return true;
  }
  if (!radix_open_ || !fits(radix_max_, count)) {
    if (radix_open_ && radix_value_ != 0) {
      error_ = "mixed-radix word holds more than its digits";
      return false;
    }
    if (!open_radix_word(count)) return false;
  }
  chosen = static_cast<std::uint32_t>(radix_value_ % count);
  radix_value_ /= count;
  radix_max_ = radix_max_ * count + (count - 1);
  return true;
}

// A word holds the digits of the choices from this one on, for as long as
// they fit: the encoder closed it before the first digit that did not. So
// the word's size follows from the counts ahead, which are read with
// copies of the cursors (each mask and count is read twice in all: the
// decoding stays linear).
bool ColumnDecoder::open_radix_word(std::uint32_t count) {
  ByteReader heads = columns_[kHeadsColumn];
  ByteReader counts = columns_[kCountsColumn];
  Exceptions exceptions = exceptions_;
  std::uint32_t last = count;
  std::uint64_t max = count - 1;
  for (std::uint64_t index = choices_; !heads.at_end();) {
    const std::uint8_t head = *heads.byte();
    if ((head & kOtherRecord) != 0) continue;
    ++index;
    const auto c = read_count(counts, head, last);
    if (!c) break;  // reported when reached
    last = *c;
    if (exceptions.at == index) {
      if (!exceptions.advance()) break;
      continue;
    }
    if (*c < 2) continue;
    if (!fits(max, *c)) break;
    max = max * *c + (*c - 1);
  }
  std::uint64_t value = 0;
  const int n = word_bytes(max);
  for (int i = 0; i < n; ++i) {
    const auto b = columns_[kRadixColumn].byte();
    if (!b) {
      error_ = "mixed-radix column too short";
      return false;
    }
    value |= static_cast<std::uint64_t>(*b) << (8 * i);
  }
  if (value > max) {
    error_ = "mixed-radix word out of range";
    return false;
  }
  radix_open_ = true;
  radix_value_ = value;
  radix_max_ = 0;
  return true;
}

bool ColumnDecoder::finish() {
  if (decoded_ != records_) {
    error_ = "fewer records decoded than held";
    return false;
  }
  if (radix_open_ && radix_value_ != 0) {
    error_ = "mixed-radix word holds more than its digits";
    return false;
  }
  if (exceptions_.at || !exceptions_.in.at_end()) {
    error_ = "exceptions left over";
    return false;
  }
  for (std::size_t i = 0; i < kColumnCount; ++i)
    if (i != kExceptionsColumn && !columns_[i].at_end()) {
      error_ = "trailing bytes in a column";
      return false;
    }
  return true;
}

}  // namespace weft::traces
