// The in-memory network of runtime/sim_network.h. Sockets are numbered in
// the order they are made (never by address); segments are delivered by
// sim::call_after timers, so delivery is a choice of the scheduler like any
// timer; fault draws are Scheduler::choose_value(kFault, ...) calls.
#include "runtime/sim_network.h"

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "sim/scheduler.h"
#include "sim/sync.h"

namespace weft::runtime {

std::string_view to_string(Fault fault) {
  static constexpr std::array<std::string_view, kFaultCount> kNames = {
      "spurious-ready", "short-write", "partial-read", "delay",     "reset",
      "drop-connect",   "partition",   "accept-storm", "clock-jump"};
  return kNames[static_cast<std::size_t>(fault)];
}

SimNetworkOptions SimNetworkOptions::none() {
  SimNetworkOptions o;
  o.modes.fill(Mode::kOff);
  return o;
}

SimNetworkOptions SimNetworkOptions::only(Fault f) {
  return none().set(f, Mode::kOn);
}

namespace {
thread_local SimNetwork* current_network = nullptr;

sim::Scheduler& sched() {
  sim::Scheduler* s = sim::Scheduler::current();
  if (s == nullptr)
    throw std::logic_error(
        "SimNetwork used outside a simulation: make it inside the test body "
        "that explore() runs");
  return *s;
}
}  // namespace

struct SimNetwork::State {
  struct Sock {
    bool listener = false;
    std::string address;        // a listener's
    std::deque<Fd> backlog;     // a listener's pending connections
    Fd peer = kNoFd;            // a connection's other end
    bool connected = false;     // writable from now on
    std::string rx;             // delivered, unread
    bool rx_eof = false;        // the peer's EOF was delivered
    bool reset = false;         // the connection is gone
    bool shut_wr = false;       // this side wrote its EOF
    bool closed = false;        // this fd is closed
    std::size_t in_flight = 0;  // bytes written, not yet delivered
    bool full = false;  // a short write filled the buffer until a delivery
    sim::Clock::time_point last_delivery{};  // per-direction order
    bool read_edge = true, write_edge = true;
  };

  explicit State(SimNetworkOptions o)
      : options(o), mu("network"), changed("network readiness") {}

  SimNetworkOptions options;
  sim::Mutex mu;
  sim::CondVar changed;
  std::vector<Sock> socks;
  std::array<std::int8_t, kFaultCount> enabled{};  // -1 undecided
  std::array<std::uint32_t, kFaultCount> fired{};
  std::uint64_t wakes = 0;  // counts Poller::wake() calls

  Sock& sock(Fd fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= socks.size() ||
        socks[fd].closed)
      throw std::logic_error("SimNetwork: socket " + std::to_string(fd) +
                             " is not open");
    return socks[fd];
  }
  Fd add(Sock s) {
    socks.push_back(std::move(s));
    return static_cast<Fd>(socks.size() - 1);
  }
  void note(sim::EventKind kind, const std::string& what) {
    sim::Scheduler& s = sched();
    s.note_event(kind, s.current_strand(), s.step(), [&] { return what; });
  }

  // Whether the site fires on this use: the per-run switch is drawn on its
  // first use, then each use draws a value; both are recorded.
  bool fires(Fault f, const std::string& detail) {
    const auto i = static_cast<std::size_t>(f);
    const auto mode = options.modes[i];
    if (mode == SimNetworkOptions::Mode::kOff) return false;
    sim::Scheduler& s = sched();
    if (enabled[i] < 0)
      enabled[i] = mode == SimNetworkOptions::Mode::kOn
                       ? 1
                       : static_cast<std::int8_t>(
                             s.choose_value(sim::ChoiceKind::kFault, 2));
    if (enabled[i] == 0) return false;
    const std::uint32_t odds = std::max<std::uint32_t>(options.odds, 2);
    if (s.choose_value(sim::ChoiceKind::kFault, odds) != odds - 1) return false;
    ++fired[i];
    note(sim::EventKind::kFault, std::string(to_string(f)) + ": " + detail);
    return true;
  }
  std::uint32_t draw(std::uint32_t count) {
    return count <= 1 ? 0
                      : sched().choose_value(sim::ChoiceKind::kFault, count);
  }

  // When a segment written now from `from` arrives: after the latency, a
  // drawn delay or a partition, and never before the one before it.
  sim::Clock::time_point arrival(Fd from) {
    auto at = sim::Clock::now() + options.latency;
    const auto ms = options.max_delay / std::chrono::milliseconds(1);
    if (ms > 0 && fires(Fault::kDelay, "segment from " + std::to_string(from)))
      at += std::chrono::milliseconds(1 + draw(static_cast<std::uint32_t>(ms)));
    if (fires(Fault::kPartition, "segment from " + std::to_string(from)))
      at += options.partition;
    Sock& s = socks[from];
    at = std::max(at, s.last_delivery);
    s.last_delivery = at;
    return at;
  }
  // Runs `deliver` (under the lock) at `at`, then wakes the pollers.
  void later(sim::Clock::time_point at, std::function<void(State&)> deliver,
             const std::shared_ptr<State>& self) {
    sim::call_after(at - sim::Clock::now(),
                    [weak = std::weak_ptr<State>(self), deliver] {
                      const auto st = weak.lock();
                      if (!st) return;
                      std::lock_guard lk(st->mu);
                      deliver(*st);
                      st->changed.notify_all();
                    });
  }
  void reset_both(Fd fd) {
    Sock& s = socks[fd];
    s.reset = true;
    s.read_edge = s.write_edge = true;
    if (s.peer != kNoFd) {
      socks[s.peer].reset = true;
      socks[s.peer].read_edge = socks[s.peer].write_edge = true;
    }
    changed.notify_all();
  }
  std::size_t space(const Sock& s) const {
    const std::size_t used = s.in_flight + socks[s.peer].rx.size();
    return used >= options.window ? 0 : options.window - used;
  }
  bool readable(const Sock& s) const {
    if (s.listener) return !s.backlog.empty();
    return !s.rx.empty() || s.rx_eof || s.reset;
  }
  bool writable(const Sock& s) const {
    if (s.listener) return false;
    return s.reset || (s.connected && !s.shut_wr && !s.full && space(s) > 0);
  }
};

namespace {

class SimPoller final : public Poller {
 public:
  explicit SimPoller(std::shared_ptr<SimNetwork::State> st)
      : st_(std::move(st)) {}
  void watch(Fd fd, bool read, bool write, Trigger trigger) override {
    std::lock_guard lk(st_->mu);
    auto& s = st_->sock(fd);
    s.read_edge = s.write_edge = true;  // as EPOLL_CTL_ADD/MOD reports once
    watched_[fd] = {read, write, trigger};
  }
  void unwatch(Fd fd) override {
    std::lock_guard lk(st_->mu);
    watched_.erase(fd);
  }
  std::vector<IoEvent> wait(
      std::optional<sim::Clock::time_point> deadline) override {
    std::unique_lock lk(st_->mu);
    for (;;) {
      std::vector<IoEvent> out = collect();
      if (!out.empty() || woken_) {
        woken_ = false;
        if (!out.empty()) spurious(out);
        return out;
      }
      if (!deadline) {
        st_->changed.wait(lk);
      } else if (st_->changed.wait_until(lk, *deadline) ==
                 std::cv_status::timeout) {
        return collect();
      }
    }
  }
  void wake() override {
    std::lock_guard lk(st_->mu);
    woken_ = true;
    st_->changed.notify_all();
  }

 private:
  struct Watch {
    bool read;
    bool write;
    Trigger trigger;
  };
  std::vector<IoEvent> collect() {
    std::vector<IoEvent> out;
    for (const auto& [fd, w] : watched_) {
      auto& s = st_->socks[fd];
      if (s.closed) continue;
      bool r = w.read && st_->readable(s);
      bool wr = w.write && st_->writable(s);
      if (w.trigger == Trigger::kEdge) {
        r = r && s.read_edge;
        wr = wr && s.write_edge;
        if (r) s.read_edge = false;
        if (wr) s.write_edge = false;
      }
      if (r || wr) out.push_back({.fd = fd, .readable = r, .writable = wr});
    }
    return out;
  }
  // Readiness is a hint: beside the real events, report a watched socket
  // that is not ready (only with real events, so a wait never spins).
  void spurious(std::vector<IoEvent>& out) {
    if (!st_->fires(Fault::kSpuriousReady, "a wait")) return;
    const auto pick = st_->draw(static_cast<std::uint32_t>(watched_.size()));
    auto it = std::next(watched_.begin(), pick);
    const auto fd = it->first;
    auto found = std::find_if(out.begin(), out.end(),
                              [&](const IoEvent& e) { return e.fd == fd; });
    if (found == out.end())
      out.push_back({.fd = fd,
                     .readable = it->second.read,
                     .writable = it->second.write});
    else
      *found = {
          .fd = fd, .readable = it->second.read, .writable = it->second.write};
  }
  std::shared_ptr<SimNetwork::State> st_;
  std::map<Fd, Watch> watched_;
  bool woken_ = false;
};

}  // namespace

SimNetwork::SimNetwork(SimNetworkOptions options)
    : state_(std::make_shared<State>(options)), previous_(current_network) {
  sched();
  state_->enabled.fill(-1);
  current_network = this;
}

SimNetwork::~SimNetwork() { current_network = previous_; }

SimNetwork* SimNetwork::current() { return current_network; }

std::array<std::uint32_t, kFaultCount> SimNetwork::fired() const {
  return state_->fired;
}

std::unique_ptr<Poller> SimNetwork::make_poller() {
  return std::make_unique<SimPoller>(state_);
}

Fd SimNetwork::listen(const std::string& address) {
  std::lock_guard lk(state_->mu);
  for (const auto& s : state_->socks)
    if (s.listener && !s.closed && s.address == address)
      throw NetError("listen on " + address + ": address in use");
  State::Sock s;
  s.listener = true;
  s.address = address;
  return state_->add(std::move(s));
}

std::string SimNetwork::local_address(Fd listener) {
  std::lock_guard lk(state_->mu);
  return state_->sock(listener).address;
}

Fd SimNetwork::accept(Fd listener) {
  std::lock_guard lk(state_->mu);
  auto& l = state_->sock(listener);
  if (l.backlog.empty()) return kNoFd;
  const Fd fd = l.backlog.front();
  l.backlog.pop_front();
  return fd;
}

Fd SimNetwork::connect(const std::string& address) {
  sched().choice_point(sim::ChoiceKind::kMessage);
  std::lock_guard lk(state_->mu);
  State& st = *state_;
  const Fd c = st.add({});
  Fd listener = kNoFd;
  for (std::size_t i = 0; i < st.socks.size(); ++i)
    if (st.socks[i].listener && !st.socks[i].closed &&
        st.socks[i].address == address)
      listener = static_cast<Fd>(i);
  const auto at = sim::Clock::now() + st.options.latency;
  if (listener == kNoFd ||
      st.fires(Fault::kDropConnect, "connect to " + address)) {
    st.note(sim::EventKind::kIoReady,
            "connect " + std::to_string(c) + " to " + address + " refused");
    st.later(
        at, [c](State& s) { s.reset_both(c); }, state_);
    return c;
  }
  const Fd server = st.add({});
  st.socks[c].peer = server;
  st.socks[server].peer = c;
  st.note(sim::EventKind::kIoReady, "connect " + std::to_string(c) + " to " +
                                        address + " (server side " +
                                        std::to_string(server) + ")");
  std::vector<Fd> storm;
  if (st.fires(Fault::kAcceptStorm,
               std::to_string(st.options.storm) + " connections to " + address))
    for (int i = 0; i < st.options.storm; ++i) {
      const Fd ghost = st.add({});
      st.socks[ghost].connected = st.socks[ghost].rx_eof = true;
      storm.push_back(ghost);
    }
  st.later(
      at,
      [c, server, listener, storm](State& s) {
        if (s.socks[listener].closed || s.socks[c].reset) {
          s.reset_both(c);
          return;
        }
        for (const Fd g : storm) s.socks[listener].backlog.push_back(g);
        s.socks[listener].backlog.push_back(server);
        s.socks[c].connected = s.socks[server].connected = true;
        s.socks[c].write_edge = true;
      },
      state_);
  return c;
}

IoResult SimNetwork::read(Fd fd, char* buf, std::size_t n) {
  sched().choice_point(sim::ChoiceKind::kMessage);
  std::lock_guard lk(state_->mu);
  State& st = *state_;
  State::Sock& s = st.sock(fd);
  if (s.reset) return {IoStatus::kReset, 0};
  if (s.rx.empty()) return {s.rx_eof ? IoStatus::kEof : IoStatus::kAgain, 0};
  std::size_t m = std::min(n, s.rx.size());
  if (m > 1 &&
      st.fires(Fault::kPartialRead, "read on " + std::to_string(fd) + " of " +
                                        std::to_string(m) + " bytes"))
    m = 1 + st.draw(static_cast<std::uint32_t>(m - 1));
  State::Sock& sr = st.socks[fd];
  sr.rx.copy(buf, m);
  sr.rx.erase(0, m);
  if (sr.peer != kNoFd) st.socks[sr.peer].write_edge = true;
  st.changed.notify_all();
  return {IoStatus::kOk, m};
}

IoResult SimNetwork::write(Fd fd, const char* buf, std::size_t n) {
  sched().choice_point(sim::ChoiceKind::kMessage);
  std::lock_guard lk(state_->mu);
  State& st = *state_;
  State::Sock& s = st.sock(fd);
  if (s.reset || s.shut_wr) return {IoStatus::kReset, 0};
  if (!s.connected) return {IoStatus::kAgain, 0};
  if (st.socks[s.peer].closed) {
    st.reset_both(fd);
    return {IoStatus::kReset, 0};
  }
  std::size_t m = std::min(n, st.space(s));
  if (m == 0 || s.full) return {IoStatus::kAgain, 0};
  const std::string where = "write on " + std::to_string(fd);
  // A short write is a full send buffer: writes say EAGAIN until the
  // segment is delivered.
  if (m > 1 && st.fires(Fault::kShortWrite,
                        where + " of " + std::to_string(m) + " bytes")) {
    m = 1 + st.draw(static_cast<std::uint32_t>(m - 1));
    st.socks[fd].full = true;
  }
  if (st.fires(Fault::kReset, where)) {
    st.reset_both(fd);
    return {IoStatus::kReset, 0};
  }
  const Fd peer = st.socks[fd].peer;
  st.socks[fd].in_flight += m;
  st.note(sim::EventKind::kIoReady, std::to_string(fd) + " -> " +
                                        std::to_string(peer) + ": " +
                                        std::to_string(m) + " bytes");
  st.later(
      st.arrival(fd),
      [fd, peer, data = std::string(buf, m)](State& s2) {
        s2.socks[fd].in_flight -= data.size();
        if (s2.socks[fd].full) {
          s2.socks[fd].full = false;
          s2.socks[fd].write_edge = true;
        }
        auto& p = s2.socks[peer];
        if (p.closed) {
          s2.reset_both(fd);  // bytes to a closed socket: RST
        } else if (!p.reset) {
          p.rx += data;
          p.read_edge = true;
        }
      },
      state_);
  if (st.fires(Fault::kClockJump, "suspended after " + where))
    sched().jump_clock(st.options.clock_jump);
  return {IoStatus::kOk, m};
}

void SimNetwork::shutdown_write(Fd fd) {
  sched().choice_point(sim::ChoiceKind::kMessage);
  std::lock_guard lk(state_->mu);
  State& st = *state_;
  State::Sock& s = st.sock(fd);
  if (s.shut_wr || s.reset || s.peer == kNoFd) return;
  s.shut_wr = true;
  const Fd peer = s.peer;
  st.note(sim::EventKind::kIoReady,
          std::to_string(fd) + " -> " + std::to_string(peer) + ": EOF");
  st.later(
      st.arrival(fd),
      [peer](State& s2) {
        s2.socks[peer].rx_eof = true;
        s2.socks[peer].read_edge = true;
      },
      state_);
}

void SimNetwork::close(Fd fd) {
  sched().choice_point(sim::ChoiceKind::kMessage);
  std::lock_guard lk(state_->mu);
  State& st = *state_;
  State::Sock& s = st.sock(fd);
  const bool unread = !s.rx.empty();
  const bool shut = s.shut_wr;
  s.closed = true;
  st.note(sim::EventKind::kIoReady, "close " + std::to_string(fd));
  if (s.listener) {
    for (const Fd pending : std::deque<Fd>(s.backlog)) st.reset_both(pending);
    return;
  }
  if (s.peer == kNoFd || s.reset) return;
  if (unread) {
    st.reset_both(fd);  // closing with unread data sends RST
  } else if (!shut) {
    const Fd peer = s.peer;
    st.later(
        st.arrival(fd),
        [peer](State& s2) {
          s2.socks[peer].rx_eof = true;
          s2.socks[peer].read_edge = true;
        },
        state_);
  }
  st.changed.notify_all();
}

}  // namespace weft::runtime
