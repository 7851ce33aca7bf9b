// The two worlds behind runtime/world.h: RealWorld (threads, steady clock,
// stderr, exceptions) and SimWorld (the scheduler running on this thread).
// World::current() is the one place in runtime/ that asks which it is.
#include "runtime/world.h"

#include <time.h>

#include <cstdio>
#include <stdexcept>
#include <thread>

#include "runtime/net.h"
#include "runtime/sim_network.h"

namespace weft::runtime {
namespace {

class RealWorld final : public World {
 public:
  bool simulated() const override { return false; }
  internal::StrandIdentity identity() const override {
    internal::StrandIdentity id;
    id.thread = std::this_thread::get_id();
    return id;
  }
  bool tearing_down() const override { return false; }
  sim::Clock::time_point now() const override { return sim::Clock::now(); }
  sim::Clock::duration cpu_now() const override {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) +
           std::chrono::nanoseconds(ts.tv_nsec);
  }
  void burn(sim::Clock::duration d) override {
    const auto until = cpu_now() + d;
    while (cpu_now() < until) {
    }
  }
  void model_delay(sim::Clock::duration) override {}
  void report_lost_error(const std::string& what) override {
    std::fprintf(stderr, "weft: %s\n", what.c_str());
  }
  Network& network() override { return real_network(); }
  MessageStamp stamp() const override { return {}; }
  void note_message(const MessageStamp&,
                    const std::function<std::string()>&) override {}

 protected:
  void fail_misuse(const std::string&) override {}
};

// Stateless: every call forwards to the scheduler running on this thread.
class SimWorld final : public World {
 public:
  bool simulated() const override { return true; }
  internal::StrandIdentity identity() const override {
    const sim::Scheduler& s = sched();
    internal::StrandIdentity id;
    id.sched = &s;
    id.run = s.run_id();
    id.strand = s.current_strand();
    return id;
  }
  bool tearing_down() const override { return sched().tearing_down(); }
  sim::Clock::time_point now() const override { return sim::Clock::now(); }
  sim::Clock::duration cpu_now() const override {
    return sim::Clock::now().time_since_epoch();
  }
  void burn(sim::Clock::duration d) override { sim::sleep_for(d); }
  void model_delay(sim::Clock::duration d) override {
    if (d.count() > 0) sim::sleep_for(d);
  }
  void report_lost_error(const std::string& what) override {
    sched().fail(sim::FailureKind::kException, what);
  }
  Network& network() override {
    if (SimNetwork* n = SimNetwork::current()) return *n;
    throw std::logic_error(
        "no simulated network in this run: make a SimNetwork at the start of "
        "the test body (runtime/sim_network.h)");
  }
  MessageStamp stamp() const override {
    return {.sender = sched().current_strand(), .sent_at = sched().step()};
  }
  void note_message(const MessageStamp& from,
                    const std::function<std::string()>& detail) override {
    if (from.sender == sim::kNoStrand) return;
    sched().note_event(sim::EventKind::kMessage, from.sender, from.sent_at,
                       detail);
  }

 protected:
  void fail_misuse(const std::string& what) override {
    sched().fail(sim::FailureKind::kAssertion, what);
    throw sim::StrandAborted{};
  }

 private:
  static sim::Scheduler& sched() { return *sim::Scheduler::current(); }
};

constinit RealWorld real_world;
constinit SimWorld sim_world;

}  // namespace

World& World::current() {
  if (sim::Scheduler::current() != nullptr) return sim_world;
  return real_world;
}

internal::StrandIdentity internal::StrandIdentity::current() {
  return World::current().identity();
}

}  // namespace weft::runtime
