// SimNetwork: the simulation's Network (runtime/net.h), in memory. Bytes
// travel as segments delivered by virtual-time timers, in order per
// direction; a window bounds what is in flight and unread, so writers meet
// back-pressure. Every classic imperfection is a fault site: switched on or
// off once per run, then firing on a use with probability 1/odds, both as
// recorded value choices (ChoiceKind::kFault), so a replay sees them and
// shrinking (which prefers value 0: off, not fired) drops the ones a failure
// does not need. Each fault fired is also a trace event (EventKind::kFault).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "runtime/net.h"

namespace weft::runtime {

enum class Fault : std::uint8_t {
  kSpuriousReady,  // a wait reports a socket ready that is not (EAGAIN)
  kShortWrite,     // a write takes only a prefix, cut at any byte
  kPartialRead,    // a read returns only a prefix of what is there
  kDelay,          // a segment is late: reorders across connections
  kReset,          // a write resets the connection (both sides see it)
  kDropConnect,    // a connection attempt is dropped (refused)
  kPartition,      // a segment is held until a partition heals
  kAcceptStorm,    // a connect brings a burst of connections that close
  kClockJump,      // the machine is suspended: timers all due at once
};
inline constexpr std::size_t kFaultCount = 9;
std::string_view to_string(Fault fault);

struct SimNetworkOptions {
  enum class Mode : std::uint8_t {
    kSwarm,  // switched on or off per run by a recorded choice
    kOff,
    kOn,  // on for every run (still firing with probability 1/odds)
  };
  std::array<Mode, kFaultCount> modes = {};  // all kSwarm
  std::uint32_t odds = 4;
  std::chrono::nanoseconds latency = std::chrono::microseconds(100);
  std::chrono::nanoseconds max_delay = std::chrono::milliseconds(5);
  std::chrono::nanoseconds partition = std::chrono::seconds(2);
  std::chrono::nanoseconds clock_jump = std::chrono::seconds(30);
  std::size_t window = 64 * 1024;  // per direction, in flight + unread
  int storm = 6;                   // connections per accept storm

  SimNetworkOptions& set(Fault f, Mode m) {
    modes[static_cast<std::size_t>(f)] = m;
    return *this;
  }
  // Every site off but `f` (kOn), for a test about one fault.
  static SimNetworkOptions only(Fault f);
  static SimNetworkOptions none();
};

// Made inside a simulation (the test body); while it lives it is the
// network World::current().network() gives in this run. Not copyable.
class SimNetwork final : public Network {
 public:
  explicit SimNetwork(SimNetworkOptions options = {});
  ~SimNetwork() override;
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // The SimNetwork of the running simulation, or null.
  static SimNetwork* current();

  Fd listen(const std::string& address) override;
  std::string local_address(Fd listener) override;
  Fd accept(Fd listener) override;
  Fd connect(const std::string& address) override;
  IoResult read(Fd fd, char* buf, std::size_t n) override;
  IoResult write(Fd fd, const char* buf, std::size_t n) override;
  void shutdown_write(Fd fd) override;
  void close(Fd fd) override;
  std::unique_ptr<Poller> make_poller() override;

  // Faults fired so far in this run, by site.
  std::array<std::uint32_t, kFaultCount> fired() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  SimNetwork* previous_;
};

}  // namespace weft::runtime
