// The network's record kind (tag 9, format 2.2): what the simulated network
// (runtime/sim_network.h) and protocol state machines (runtime/
// state_machine.h) tell a recorded run: connections opened, accepted,
// half-closed, closed and reset, bytes sent and delivered, faults fired,
// and state transitions. For the eye (`weft trace show`, the timeline);
// replay ignores them. Plain values and their field coding; the container
// (traces/record.h) gives them their tag.
#pragma once

#include <cstdint>
#include <string>

#include "traces/varint.h"

namespace weft::traces {

struct NetRecord {
  // Part of the file format: the numbers stay.
  enum class Event : std::uint8_t {
    kConnect = 0,    // socket connects to `name` (peer: the server side)
    kRefused = 1,    // socket's connect to `name` is refused
    kAccept = 2,     // socket accepted on listener `name` (peer: client)
    kSend = 3,       // socket wrote `bytes` towards peer
    kDeliver = 4,    // `bytes` from socket arrived at peer
    kHalfClose = 5,  // socket shut its write side: peer reads EOF
    kClose = 6,      // socket closed
    kReset = 7,      // the connection of socket and peer is reset
    kFault = 8,      // fault site `name` fired: `detail` says where
    kState = 9,      // machine `name` moved: `detail` "from -> to: why"
  };
  static constexpr std::uint8_t kMaxEvent = 9;
  static constexpr std::uint32_t kNoSocket = 0xffffffffu;
  Event event = Event::kConnect;
  std::uint32_t strand = 0;
  std::uint64_t step = 0;
  std::uint32_t socket = kNoSocket;
  std::uint32_t peer = kNoSocket;
  std::uint64_t bytes = 0;
  std::string name;
  std::string detail;
  friend bool operator==(const NetRecord&, const NetRecord&) = default;
};

// "connect", "half-close", ...; "net-N" for a number no event has.
std::string net_event_name(NetRecord::Event event);
// The record in words, without strand or step: "3 -> 4: 12 bytes
// delivered", "state conn 4: reading -> closing: eof".
std::string net_text(const NetRecord& record);

// Fields as docs/trace-format.md's record table lists them (without the
// tag). get_fields is false on malformed input.
void put_fields(const NetRecord& n, std::string& out);
bool get_fields(ByteReader& in, NetRecord& n);

}  // namespace weft::traces
