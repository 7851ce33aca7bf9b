#include "sim/thread.h"

#include "sim/flight.h"

namespace weft::sim {

JoinHandle::JoinHandle(JoinHandle&& o) noexcept
    : thread_(std::move(o.thread_)),
      sched_(o.sched_),
      run_id_(o.run_id_),
      strand_(o.strand_),
      flight_thread_(o.flight_thread_) {
  o.strand_ = kNoStrand;
  o.sched_ = nullptr;
}

JoinHandle& JoinHandle::operator=(JoinHandle&& o) noexcept {
  if (this != &o) {
    if (joinable()) detach();
    thread_ = std::move(o.thread_);
    sched_ = o.sched_;
    run_id_ = o.run_id_;
    strand_ = o.strand_;
    flight_thread_ = o.flight_thread_;
    o.strand_ = kNoStrand;
    o.sched_ = nullptr;
  }
  return *this;
}

JoinHandle::~JoinHandle() {
  if (joinable()) detach();
}

bool JoinHandle::joinable() const {
  return thread_.joinable() || strand_ != kNoStrand;
}

void JoinHandle::detach() {
  if (thread_.joinable()) thread_.detach();
  strand_ = kNoStrand;
  sched_ = nullptr;
}

void JoinHandle::join(SourceLocation where) {
  if (thread_.joinable()) {
    thread_.join();
    if (flight::on()) [[unlikely]]
      flight::record(flight::Op::kJoin, 0, 0, flight_thread_);
    return;
  }
  if (strand_ == kNoStrand)
    throw std::logic_error("join of a non-joinable strand");
  Scheduler* s = sched_;
  const StrandId id = strand_;
  strand_ = kNoStrand;
  sched_ = nullptr;
  if (s != Scheduler::current() || s->run_id() != run_id_)
    throw std::logic_error("join of a strand from another simulation run");
  s->join(id, where);
  if (flight::ReplayHooks* h = s->replay_hooks())
    h->on_op(flight::Op::kJoin, nullptr, id);
}

JoinHandle spawn(std::string name, std::function<void()> body,
                 SourceLocation where) {
  JoinHandle h;
  if (Scheduler* s = Scheduler::current()) {
    h.sched_ = s;
    h.run_id_ = s->run_id();
    // Noted before the spawn's choice point, at the step the strand is
    // made (the new strand may run before this one does again).
    s->note_op([&] {
      OpNote n;
      n.kind = ChoiceKind::kSpawn;
      n.what = name.empty() ? std::string("spawn a strand")
                            : "spawn strand '" + name + "'";
      n.where = where;
      return n;
    });
    h.strand_ = s->spawn(std::move(name), std::move(body));
    return h;
  }
  if (flight::on()) [[unlikely]] {
    // The new thread's number, logged here so a replay knows which strand
    // it is (the one this spawn creates).
    const std::uint32_t child = flight::new_thread();
    flight::record(flight::Op::kSpawn, 0, 0, child);
    h.flight_thread_ = child;
    h.thread_ = std::thread([child, body = std::move(body)] {
      flight::bind_thread(child);
      body();
    });
    return h;
  }
  h.thread_ = std::thread(std::move(body));
  return h;
}

std::string current_strand_name() {
  if (Scheduler* s = Scheduler::current())
    return s->strand_name(s->current_strand());
  return {};
}

}  // namespace weft::sim
