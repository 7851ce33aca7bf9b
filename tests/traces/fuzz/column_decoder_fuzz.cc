// libFuzzer target for the column layout alone: any bytes given as a
// frame's content either decode into records or are refused, never a
// crash, a hang or a read out of bounds; and records that decode, coded
// again and decoded again, come back the same. The file-level target
// (trace_reader_fuzz) rarely gets past zstd's checksums, so this one
// feeds the decoder directly, with columns.cc compiled in for coverage.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "traces/columns.h"

namespace {

using weft::traces::ByteReader;
using weft::traces::ColumnDecoder;
using weft::traces::ColumnEncoder;
using weft::traces::Record;

// The records of a frame's content, or false.
bool decode(const std::string& content, std::vector<Record>& out) {
  ByteReader in(content.data(), content.size());
  const auto count = in.varint();
  const auto marker = in.byte();
  if (!count || *count > content.size() || !marker ||
      *marker != weft::traces::kColumnMarker)
    return false;
  ColumnDecoder decoder;
  if (!decoder.start(content.data() + in.pos(), content.size() - in.pos(),
                     *count))
    return false;
  for (std::uint64_t i = 0; i < *count; ++i) {
    auto record = decoder.next();
    if (!record) return false;
    out.push_back(std::move(*record));
  }
  return decoder.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string content(reinterpret_cast<const char*>(data), size);
  std::vector<Record> records;
  if (!decode(content, records)) return 0;
  ColumnEncoder encoder;
  for (const auto& r : records) encoder.add(r);
  std::string again;
  encoder.finish(again);
  std::vector<Record> back;
  if (!decode(again, back) || back != records) std::abort();
  return 0;
}
