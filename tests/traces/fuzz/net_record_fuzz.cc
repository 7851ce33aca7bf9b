// libFuzzer target for the record decoder, net records (tag 9) first among
// them: any bytes are read as rows of records (a tag, then the fields)
// until they run out or one is refused, never a crash, a hang or a read
// out of bounds; every record that decodes, coded again, takes no more
// bytes than it was read from and decodes again to the same record. The
// record sources are compiled in, so the fuzzer sees their coverage.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "traces/record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  using namespace weft::traces;
  const char* bytes = reinterpret_cast<const char*>(data);
  ByteReader in(bytes, size);
  while (in.pos() < size) {
    const std::size_t start = in.pos();
    const auto record = decode(in);
    if (!record) return 0;
    std::string again;
    encode(*record, again);
    ByteReader back(again.data(), again.size());
    const auto twice = decode(back);
    if (!twice || *twice != *record || back.pos() != again.size()) std::abort();
    if (again.size() > in.pos() - start) std::abort();
  }
  return 0;
}
