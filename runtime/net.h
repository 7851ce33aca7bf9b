// Non-blocking byte-stream sockets and their readiness, as an event loop
// sees them: a Network (World::current().network()) opens, reads, writes
// and closes sockets; a Poller per loop waits for readiness, level- or
// edge-triggered. On real threads it is the OS (TCP and Unix-domain
// sockets, epoll); in a simulation it is SimNetwork (runtime/sim_network.h),
// an in-memory network whose every imperfection is a recorded fault
// choice. Nothing here blocks except Poller::wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/clock.h"

namespace weft::runtime {

// A socket of one Network (on real threads, the OS file descriptor).
using Fd = int;
inline constexpr Fd kNoFd = -1;

// A socket that cannot be opened (bad address, connection refused at once).
class NetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class IoStatus : std::uint8_t {
  kOk,     // `bytes` moved (> 0)
  kAgain,  // EAGAIN: nothing now, whatever readiness said
  kEof,    // the peer shut its write side (read only)
  kReset,  // the connection is gone (ECONNRESET, EPIPE, refused)
};

struct IoResult {
  IoStatus status = IoStatus::kOk;
  std::size_t bytes = 0;
};

enum class Trigger : std::uint8_t {
  kLevel,  // reported while the condition holds
  kEdge,   // reported when it starts to hold; re-armed only after EAGAIN
};

struct IoEvent {
  Fd fd = kNoFd;
  bool readable = false;  // data, EOF, a reset or (listener) a connection
  bool writable = false;
};

// Waits for readiness of the sockets it watches. One per event loop; all
// calls but wake() from the loop's thread.
class Poller {
 public:
  virtual ~Poller() = default;
  // Watches `fd` for reading and/or writing; a second call changes the
  // interest (stop reading at EOF: a level-triggered EOF stays readable).
  virtual void watch(Fd fd, bool read, bool write, Trigger trigger) = 0;
  virtual void unwatch(Fd fd) = 0;
  // Returns the ready sockets, at once if any, else when one becomes
  // ready, wake() is called or `deadline` passes (nullopt: no deadline).
  // Readiness is a hint: the call that follows may still say kAgain.
  virtual std::vector<IoEvent> wait(
      std::optional<sim::Clock::time_point> deadline) = 0;
  // Makes the wait in progress, or the next one, return. Thread-safe.
  virtual void wake() = 0;
};

// Addresses: "tcp:127.0.0.1:0" (port 0: any free port) or "unix:/path".
class Network {
 public:
  virtual ~Network() = default;
  // A listening socket; throws NetError.
  virtual Fd listen(const std::string& address) = 0;
  // The address a listener is bound to (with the port chosen for port 0).
  virtual std::string local_address(Fd listener) = 0;
  // A connected socket, or kNoFd with kAgain when none is waiting.
  virtual Fd accept(Fd listener) = 0;
  // Starts connecting; the socket is writable once connected, and a
  // refusal shows as kReset on its first read or write.
  virtual Fd connect(const std::string& address) = 0;
  virtual IoResult read(Fd fd, char* buf, std::size_t n) = 0;
  // May move fewer bytes than asked (a short write) or none (kAgain).
  virtual IoResult write(Fd fd, const char* buf, std::size_t n) = 0;
  // shutdown(SHUT_WR): the peer reads EOF after the bytes already written.
  virtual void shutdown_write(Fd fd) = 0;
  virtual void close(Fd fd) = 0;
  virtual std::unique_ptr<Poller> make_poller() = 0;
};

// The OS network: non-blocking TCP and Unix-domain sockets on epoll.
Network& real_network();

}  // namespace weft::runtime
