// A line-echo server and its client, written once against the seam
// (Reactor + World::current().network()), so the same code runs on real
// loopback sockets and on the simulated network. The server can carry one
// of five classic event-loop bugs (EchoBug); EchoBug::kNone is the fixed
// server. Protocol: each request is a line of 1-64 printable bytes ending
// in '\n', answered by the same line; a bad line is answered
// "error: bad request\n", a request cut by EOF "error: truncated\n", and
// the connection is then closed once the answer is flushed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/net.h"
#include "runtime/reactor.h"

namespace weft::runtime::echo {

enum class EchoBug : std::uint8_t {
  kNone,
  kAssumesFullWrite,       // drops what a short write did not take
  kReadinessIsPromise,     // a read that says EAGAIN is taken as an error
  kClosesOnHalfClose,      // closes at EOF before its answers are flushed
  kEdgeStopsBeforeEagain,  // edge-triggered, one read per wake-up
  kTimerBreaksOnClockJump  // idle timer fires after a suspension: closes
};
std::string_view to_string(EchoBug bug);

struct EchoStats {
  std::uint64_t accepted = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t idle_timeouts = 0;
  std::uint64_t resets = 0;
};

class EchoServer {
 public:
  // Listens on `address` on the reactor's network. Reactor-only.
  EchoServer(Reactor& r, const std::string& address, EchoBug bug,
             Trigger trigger);
  ~EchoServer();
  std::string address() const { return address_; }
  const EchoStats& stats() const { return stats_; }
  // Stops listening and closes every connection.
  void close();

  static constexpr std::chrono::seconds kIdle{10};

 private:
  struct Conn {
    Fd fd = kNoFd;
    std::string in, out;
    bool eof = false, closing = false, shut = false;
    bool want_read = true, want_write = false;  // the interest watched
    std::uint64_t activity = 0;  // bytes read, seen by the idle timer
    DelayedCall idle;
  };
  void on_accept();
  void on_event(Fd fd, const IoEvent& e);
  // Reads what the socket has; false when the connection was dropped.
  bool read_input(Conn& c);
  void handle_lines(Conn& c);
  // Writes what it can; closes when done closing. False if dropped.
  bool flush(Conn& c);
  void arm_idle(Conn& c);
  void on_idle(Fd fd, sim::Clock::time_point due, std::uint64_t activity);
  void drop(Fd fd);

  Reactor& r_;
  Network& net_;
  EchoBug bug_;
  Trigger trigger_;
  Fd listener_ = kNoFd;
  std::string address_;
  std::map<Fd, std::unique_ptr<Conn>> conns_;
  EchoStats stats_;
};

// Connects, sends `request` (with back-pressure), shuts its write side,
// reads until EOF, reset or refusal, then calls `done`. Always correct:
// loops to EAGAIN, keeps what a short write left, handles every status.
class EchoClient {
 public:
  EchoClient(Reactor& r, const std::string& address, std::string request,
             Trigger trigger, std::function<void()> done);
  const std::string& received() const { return received_; }
  bool reset() const { return reset_; }
  bool finished() const { return finished_; }

 private:
  void on_event(const IoEvent& e);
  void finish(bool reset);
  Reactor& r_;
  Network& net_;
  Trigger trigger_;
  Fd fd_;
  std::string out_, received_;
  bool shut_ = false, reset_ = false, finished_ = false;
  std::function<void()> done_;
};

// `n` request lines for client `id`, of varied lengths.
std::string request_lines(int id, int n);

}  // namespace weft::runtime::echo
