// The column layout of a frame's content (format 1.1). A frame's records
// are split into columns: their tags; for choice records a mask of the
// fields that differ from a prediction made from the previous choices
// (the step is usually the last one plus one, the strand at a choice point
// is usually the one picked last, ...) and one column per field holding
// only the values that were not predicted; the chosen
// indices packed at their entropy bound by mixed-radix coding given each
// choice's count; the other records row-wise in a column of their own.
// zstd then squeezes the near-constant columns to almost nothing, so a
// schedule costs little more than the bits of its choices.
// docs/trace-format.md ("Column layout") specifies the bytes.
//
// Every frame is coded on its own (the predictions restart with each
// frame), so frames stay independent. Any record round-trips exactly,
// including choices whose `chosen` is not below their `count`: those are
// listed apart as exceptions. The decoder never reads outside the columns
// it is given, keeps no per-record state, and reports malformed input
// instead of trusting it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "traces/record.h"
#include "traces/varint.h"

namespace weft::traces {

// The byte after the record count that marks a frame in the column layout.
// Row-wise frames have a record tag there, and tags are below 64.
inline constexpr std::uint8_t kColumnMarker = 64;

enum ColumnId : std::size_t {
  kHeadsColumn,       // one byte per record: see kOtherRecord
  kKindsColumn,       // one byte per mispredicted kind: the kind
  kStrandsColumn,     // varint per mispredicted strand: the strand
  kCountsColumn,      // varint per mispredicted count: the count
  kPickedColumn,      // varint per mispredicted picked: the picked strand
  kStepsColumn,       // varint per mispredicted step: zigzag(step - predicted)
  kExceptionsColumn,  // varint n, then n (index gap, chosen) pairs
  kRadixColumn,       // the chosen indices, mixed-radix words
  kRowsColumn,        // other records: their fields, row-wise
  kColumnCount
};

// A record's head byte: 128 + its tag for a record other than a choice; a
// choice's mask (below 128) for a choice. One column for both keeps the
// few irregular records of a long regular schedule together, where zstd
// codes them with fewest sequences.
inline constexpr std::uint8_t kOtherRecord = 128;

// The bits of a choice's mask: which fields differ from their prediction.
enum ChoiceMask : std::uint8_t {
  kKindMissed = 1,        // kind != the previous choice's
  kIsValueMissed = 2,     // is_value != the previous choice's
  kStrandMissed = 4,      // strand != the previous choice's picked
  kCountMissed = 8,       // count != the previous choice's
  kPickedMissed = 16,     // picked != ChoicePredictor::picked()
  kStepMissed = 32,       // step != the previous choice's step + 1
  kPreemptionMissed = 64  // preemption != ChoicePredictor::preemption()
};

// What the next choice of a frame is expected to be, from the ones before
// it in the frame. The encoder and the decoder keep one each, fed the same
// choices, so they predict alike.
class ChoicePredictor {
 public:
  const ChoiceRecord& last() const { return last_; }
  std::uint64_t next_step() const { return last_.step + (started_ ? 1 : 0); }
  // A value choice's picked is its chosen. A strand choice picks from the
  // enabled strands in ascending order, which change rarely: the strand
  // last picked at this index among this many alternatives, else the
  // chosen index shifted as much as the last strand choice's was.
  std::uint32_t picked(bool is_value, std::uint32_t count,
                       std::uint32_t chosen) const;
  // A strand choice that picks another strand than the one that reached
  // the choice point switches away from it: a preemption unless that
  // strand could not go on.
  static bool preemption(bool is_value, std::uint32_t strand,
                         std::uint32_t picked) {
    return !is_value && picked != strand;
  }
  void update(const ChoiceRecord& c);

 private:
  static constexpr std::uint32_t kTable = 16;  // counts and indices 1-16
  ChoiceRecord last_;
  bool started_ = false;
  std::uint32_t shift_ = 0;  // picked - chosen of the last strand choice
  std::array<std::uint16_t, kTable> known_{};  // bit `chosen` per count
  std::array<std::uint32_t, kTable * kTable> picks_{};
};

// Collects the records of one frame as columns.
class ColumnEncoder {
 public:
  void add(const Record& record);
  // Records added since the last finish().
  std::uint64_t size() const { return records_; }
  // Appends the frame's content (record count, marker, column lengths,
  // columns) to `out` and starts an empty frame. Same records, same bytes.
  void finish(std::string& out);

 private:
  void add_choice(const ChoiceRecord& c);
  void flush_radix();

  std::array<std::string, kColumnCount> columns_;
  std::uint64_t records_ = 0;
  ChoicePredictor predictor_;  // reset at each frame
  std::uint64_t choices_ = 0;
  std::uint64_t exceptions_ = 0;
  std::uint64_t next_exception_ = 0;  // the index an exception gap counts from
  std::string exception_pairs_;
  // The open mixed-radix word: its value and the largest value it can hold.
  std::uint64_t radix_value_ = 0;
  std::uint64_t radix_max_ = 0;
};

// Yields the records of one column-layout frame, in order, straight from
// the columns (nothing per record is buffered, so memory is the frame's
// content however many records it holds).
class ColumnDecoder {
 public:
  // `data` is the content after the marker; `records` the frame's record
  // count. False if the column lengths do not add up (error() says so).
  bool start(const char* data, std::size_t size, std::uint64_t records);
  // The next record; nullopt on malformed input (error() says what). Call
  // it `records` times.
  std::optional<Record> next();
  // Call after the last record: false (error() says why) unless every
  // column was used up exactly.
  bool finish();
  const char* error() const { return error_; }

 private:
  // The exception list, read one entry ahead; copied to look ahead.
  struct Exceptions {
    ByteReader in;
    std::uint64_t left = 0;  // entries not yet read
    std::uint64_t next_index = 0;
    std::optional<std::uint64_t> at;  // choice index of the next entry
    std::uint32_t chosen = 0;
    bool advance();
  };

  std::optional<Record> fail(const char* why);
  std::optional<Record> next_choice(std::uint8_t mask);
  bool next_chosen(std::uint32_t count, std::uint32_t& chosen);
  bool open_radix_word(std::uint32_t count);
  // The count of a choice whose mask is `mask`, from `counts`.
  static std::optional<std::uint32_t> read_count(ByteReader& counts,
                                                 std::uint8_t mask,
                                                 std::uint32_t last);

  std::array<ByteReader, kColumnCount> columns_{};
  std::uint64_t records_ = 0;
  std::uint64_t decoded_ = 0;
  ChoicePredictor predictor_;
  std::uint64_t choices_ = 0;
  Exceptions exceptions_;
  // The open mixed-radix word: what is left of its value, and the largest
  // value the digits taken from it so far could make (mirroring the
  // encoder, which decides where words end).
  bool radix_open_ = false;
  std::uint64_t radix_value_ = 0;
  std::uint64_t radix_max_ = 0;
  const char* error_ = "";
};

}  // namespace weft::traces
