#include "traces/net_records.h"

#include "traces/fields.h"

namespace weft::traces {

using fields::get;
using fields::get_enum;
using fields::get_string;
using fields::put_string;

std::string net_event_name(NetRecord::Event event) {
  using E = NetRecord::Event;
  switch (event) {
    case E::kConnect:
      return "connect";
    case E::kRefused:
      return "refused";
    case E::kAccept:
      return "accept";
    case E::kSend:
      return "send";
    case E::kDeliver:
      return "deliver";
    case E::kHalfClose:
      return "half-close";
    case E::kClose:
      return "close";
    case E::kReset:
      return "reset";
    case E::kFault:
      return "fault";
    case E::kState:
      return "state";
  }
  return "net-" + std::to_string(static_cast<int>(event));
}

namespace {
std::string sock(std::uint32_t s) {
  return s == NetRecord::kNoSocket ? std::string("-") : std::to_string(s);
}
}  // namespace

std::string net_text(const NetRecord& n) {
  using E = NetRecord::Event;
  const std::string pair = sock(n.socket) + " -> " + sock(n.peer);
  switch (n.event) {
    case E::kConnect:
      return sock(n.socket) + " to " + n.name + " (server side " +
             sock(n.peer) + ")";
    case E::kRefused:
      return sock(n.socket) + " to " + n.name;
    case E::kAccept:
      return sock(n.socket) + " on " + n.name + " (client " + sock(n.peer) +
             ")";
    case E::kSend:
      return pair + ": " + std::to_string(n.bytes) + " bytes written";
    case E::kDeliver:
      return pair + ": " + std::to_string(n.bytes) + " bytes delivered";
    case E::kHalfClose:
      return pair + ": EOF";
    case E::kClose:
      return sock(n.socket);
    case E::kReset:
      return sock(n.socket) + " and " + sock(n.peer);
    case E::kFault:
    case E::kState:
      return n.name + (n.detail.empty() ? "" : ": " + n.detail);
  }
  return n.name + " " + n.detail;
}

void put_fields(const NetRecord& n, std::string& out) {
  put_varint(out, static_cast<std::uint8_t>(n.event));
  put_varint(out, n.strand);
  put_varint(out, n.step);
  put_varint(out, n.socket);
  put_varint(out, n.peer);
  put_varint(out, n.bytes);
  put_string(out, n.name);
  put_string(out, n.detail);
}

bool get_fields(ByteReader& in, NetRecord& n) {
  return get_enum(in, n.event, NetRecord::kMaxEvent) && get(in, n.strand) &&
         get(in, n.step) && get(in, n.socket) && get(in, n.peer) &&
         get(in, n.bytes) && get_string(in, n.name) && get_string(in, n.detail);
}

}  // namespace weft::traces
