#include "runtime/service.h"

#include <time.h>

#include <bit>
#include <cstdio>
#include <typeinfo>

#include "runtime/worker.h"

namespace weft::runtime {
namespace {

std::string seconds(sim::Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs",
                std::chrono::duration<double>(d).count());
  return buf;
}

// CPU time of this thread (real), or virtual time (simulated: burn()
// spends virtual time on the worker, so a segment's span is its CPU).
sim::Clock::duration cpu_now() {
  if (sim::Scheduler::current() != nullptr)
    return sim::Clock::now().time_since_epoch();
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// A coroutine that finished by throwing, with nobody to tell: in a
// simulation the schedule fails; on real threads it is printed.
void report_lost_error(const std::string& what) {
  if (sim::Scheduler* s = sim::Scheduler::current()) {
    s->fail(sim::FailureKind::kException, what);
    return;
  }
  std::fprintf(stderr, "weft: %s\n", what.c_str());
}

Task<std::string> run_fork(std::function<Task<void>(Request&)> body,
                           Request& r) {
  co_await body(r);
  co_return std::string();
}

void block_user_coroutines(internal::Co* co, const std::string& in) {
  for (auto& f : co->user_stack) {
    *f.status = internal::CoStatus::kBlocked;
    *f.blocked_in = in;
  }
}

}  // namespace

// --- Node --------------------------------------------------------------------

Node::Node(Options options)
    : options_(std::move(options)),
      mu_(options_.name + " lock"),
      ready_cv_(options_.name + " ready queue"),
      host_cv_(options_.name + " host calls") {
  // The node's waits are told once per report: at a host's call when one
  // is blocked in it, else at the idle workers.
  ready_cv_.set_describer([this] {
    return host_calls_.empty() ? "idle; " + describe_waits()
                               : std::string("idle, no message to deliver");
  });
  host_cv_.set_describer([this] { return describe_waits(); });
  if (options_.threads == 0) options_.threads = 1;
  for (std::size_t i = 1; i <= options_.threads; ++i)
    workers_.push_back(sim::spawn(
        options_.name + "-worker-" + std::to_string(i), [this] { worker(); }));
}

Node::~Node() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    ready_cv_.notify_all();
  }
  if (tearing_down()) return;
  for (auto& w : workers_) w.join();
}

// Entry i is in segment k = floor(log2(i / 16 + 1)), which holds 16 << k
// entries and starts at entry 16 * (2^k - 1).
Node::ServiceTable::Place Node::ServiceTable::place(std::size_t i) {
  const int k = std::bit_width(i / kFirst + 1) - 1;
  return {k, i - kFirst * ((std::size_t{1} << k) - 1)};
}

Node::Service& Node::ServiceTable::operator[](std::size_t i) const {
  const Place at = place(i);
  return *segments_[at.segment][at.offset];
}

void Node::ServiceTable::push_back(std::unique_ptr<Service> s) {
  const std::size_t i = size_.load(std::memory_order_relaxed);
  const Place at = place(i);
  if (at.segment >= kSegments)
    throw std::length_error("too many services on a node");
  auto& segment = segments_[at.segment];
  if (!segment)
    segment =
        std::make_unique<std::unique_ptr<Service>[]>(kFirst << at.segment);
  segment[at.offset] = std::move(s);
  // Publishes the entry (and a new segment) to workers that look it up
  // without the lock.
  size_.store(i + 1, std::memory_order_release);
}

Node::Service& Node::service(ServiceHandle h) {
  if (h == kHost || h > services_.size())
    throw std::invalid_argument("no service with handle " + std::to_string(h) +
                                " on node '" + options_.name + "'");
  return services_[h - 1];
}

ServiceHandle Node::add_service(ServiceOptions options) {
  std::lock_guard lk(mu_);
  auto s = std::make_unique<Service>();
  s->options = std::move(options);
  const auto h = static_cast<ServiceHandle>(services_.size() + 1);
  if (s->options.name.empty()) s->options.name = "service-" + std::to_string(h);
  s->stats.name = s->options.name;
  services_.push_back(std::move(s));
  return h;
}

void Node::on(ServiceHandle h, const std::string& type, Handler handler) {
  std::lock_guard lk(mu_);
  service(h).handlers[type] = std::move(handler);
}

void Node::enqueue_locked(ServiceHandle to, Envelope e) {
  if (sim::Scheduler* s = sim::Scheduler::current();
      s != nullptr && !e.from_timer && e.sent_by == sim::kNoStrand) {
    e.sent_by = s->current_strand();
    e.sent_at = s->step();
  }
  if (to == kHost) {
    auto it = host_calls_.find(e.session);
    if (it == host_calls_.end()) return;  // a late reply
    it->second->done = true;
    it->second->reply = std::move(e.payload);
    it->second->error = std::move(e.error);
    host_cv_.notify_all();
    return;
  }
  Service& s = service(to);
  s.mailbox.push_back(std::move(e));
  if (!s.running && !s.in_ready) {
    ready_.push_back(to);
    s.in_ready = true;
    ready_cv_.notify_one();
  }
}

void Node::enqueue(ServiceHandle to, Envelope e) {
  std::lock_guard lk(mu_);
  enqueue_locked(to, std::move(e));
}

void Node::add_timer(sim::Clock::duration d, ServiceHandle h, Envelope e) {
  e.from_timer = true;
  std::lock_guard lk(mu_);
  timers_.emplace(std::pair{sim::Clock::now() + d, ++timer_seq_},
                  TimerEntry{h, std::move(e)});
  ready_cv_.notify_all();
}

void Node::worker() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (stopping_) return;
    const auto now = sim::Clock::now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
      auto node = timers_.extract(timers_.begin());
      enqueue_locked(node.mapped().service, std::move(node.mapped().envelope));
    }
    if (!ready_.empty()) {
      const ServiceHandle h = ready_.front();
      ready_.pop_front();
      Service& s = service(h);
      s.in_ready = false;
      if (s.running || s.mailbox.empty()) continue;
      s.running = true;
      Envelope e = std::move(s.mailbox.front());
      s.mailbox.pop_front();
      lk.unlock();
      process(h, std::move(e));
      lk.lock();
      s.running = false;
      if (!s.mailbox.empty() && !s.in_ready) {
        ready_.push_back(h);
        s.in_ready = true;
        ready_cv_.notify_one();
      }
      continue;
    }
    if (timers_.empty())
      ready_cv_.wait(lk);
    else
      ready_cv_.wait_until(lk, timers_.begin()->first.first);
  }
}

internal::Co* Node::new_co(ServiceHandle h) {
  auto co = std::make_unique<internal::Co>();
  {
    std::lock_guard lk(mu_);
    co->id = ++next_co_;
  }
  co->service = h;
  internal::Co* raw = co.get();
  service(h).cos[raw->id] = std::move(co);
  return raw;
}

void Node::process(ServiceHandle h, Envelope e) {
  Service& s = service(h);
  if (sim::Scheduler* sched = sim::Scheduler::current();
      sched != nullptr && e.sent_by != sim::kNoStrand)
    sched->note_event(sim::EventKind::kMessage, e.sent_by, e.sent_at,
                      [&] { return describe(h, e); });
  switch (e.kind) {
    case Envelope::Kind::kRequest: {
      Handler handler;
      {
        std::lock_guard lk(mu_);
        if (s.options.serialise_requests && s.active_requests > 0) {
          s.deferred.push_back(std::move(e));
          return;
        }
        auto it = s.handlers.find(e.type);
        if (it == s.handlers.end()) {
          if (e.reply_expected) {
            Envelope r;
            r.kind = Envelope::Kind::kResponse;
            r.session = e.session;
            r.error = "service '" + s.options.name + "' has no handler for '" +
                      e.type + "'";
            enqueue_locked(e.from, std::move(r));
          }
          return;
        }
        handler = it->second;
        ++s.active_requests;
        ++s.stats.requests;
      }
      internal::Co* co = new_co(h);
      co->session = e.session;
      co->from = e.from;
      co->reply_expected = e.reply_expected;
      co->type = e.type;
      auto req =
          std::unique_ptr<Request>(new Request(this, co, std::move(e.payload)));
      Request& r = *req;
      s.requests[co->id] = std::move(req);
      co->handler = std::move(handler);
      co->task = co->handler(r);
      run_segment(h, co, co->task.handle());
      return;
    }
    case Envelope::Kind::kResponse: {
      for (auto& [id, co] : s.cos) {
        if (co->waiting == internal::Co::Wait::kCall &&
            co->waiting_session == e.session) {
          co->waiting = internal::Co::Wait::kNone;
          co->reply = std::move(e.payload);
          co->reply_error = std::move(e.error);
          run_segment(h, co.get(), co->resume_point);
          return;
        }
      }
      return;  // a reply nobody waits for any more (timed out)
    }
    case Envelope::Kind::kResume: {
      auto it = s.cos.find(e.co);
      if (it == s.cos.end()) return;
      internal::Co* co = it->second.get();
      if (co->waiting != internal::Co::Wait::kSleep &&
          co->waiting != internal::Co::Wait::kWoken)
        return;
      co->waiting = internal::Co::Wait::kNone;
      run_segment(h, co, co->resume_point);
      return;
    }
    case Envelope::Kind::kStart: {
      auto it = s.cos.find(e.co);
      if (it == s.cos.end()) return;
      run_segment(h, it->second.get(), it->second->task.handle());
      return;
    }
  }
}

void Node::run_segment(ServiceHandle h, internal::Co* co,
                       std::coroutine_handle<> point) {
  for (std::size_t i = 0; i < co->user_stack.size(); ++i)
    *co->user_stack[i].status = i + 1 == co->user_stack.size()
                                    ? internal::CoStatus::kRunning
                                    : internal::CoStatus::kNormal;
  const auto before = cpu_now();
  point.resume();
  const auto spent = cpu_now() - before;
  co->cpu += spent;
  {
    std::lock_guard lk(mu_);
    Service& s = service(h);
    s.stats.cpu += spent;
    s.stats.cpu_by_type[co->type] += spent;
  }
  if (co->task.done()) finish(h, co);
}

void Node::finish(ServiceHandle h, internal::Co* co) {
  Service& s = service(h);
  std::string value, error;
  try {
    value = co->task.result();
  } catch (const std::exception& e) {
    // A failed call passes through as it is; anything else says where.
    error = dynamic_cast<const CallError*>(&e) != nullptr
                ? std::string(e.what())
                : "handler of '" + co->type + "' on service '" +
                      s.options.name + "' threw: " + e.what();
  }
  const bool is_request = co->type != "fork";
  if (is_request && co->reply_expected) {
    Envelope r;
    r.kind = Envelope::Kind::kResponse;
    r.session = co->session;
    r.payload = std::move(value);
    r.error = std::move(error);
    enqueue(co->from, std::move(r));
  } else if (!error.empty()) {
    report_lost_error(error);
  }
  const std::uint64_t id = co->id;
  {
    std::lock_guard lk(mu_);
    if (is_request) {
      --s.active_requests;
      if (!s.deferred.empty()) {
        s.mailbox.push_front(std::move(s.deferred.front()));
        s.deferred.pop_front();
      }
    }
  }
  s.requests.erase(id);
  s.cos.erase(id);
}

std::string Node::call(ServiceHandle to, std::string type,
                       std::string payload) {
  HostCall hc;
  std::unique_lock lk(mu_);
  const std::uint64_t session = ++next_session_;
  host_calls_[session] = &hc;
  Envelope e;
  e.kind = Envelope::Kind::kRequest;
  e.from = kHost;
  e.session = session;
  e.reply_expected = true;
  e.type = std::move(type);
  e.payload = std::move(payload);
  enqueue_locked(to, std::move(e));
  host_cv_.wait(lk, [&] { return hc.done; });
  host_calls_.erase(session);
  if (!hc.error.empty()) throw CallError(hc.error);
  return std::move(hc.reply);
}

void Node::send(ServiceHandle to, std::string type, std::string payload) {
  Envelope e;
  e.kind = Envelope::Kind::kRequest;
  e.from = kHost;
  e.type = std::move(type);
  e.payload = std::move(payload);
  enqueue(to, std::move(e));
}

std::vector<ServiceStats> Node::stats() {
  std::lock_guard lk(mu_);
  std::vector<ServiceStats> out;
  for (std::size_t i = 0; i < services_.size(); ++i)
    out.push_back(services_[i].stats);
  return out;
}

std::string Node::describe(ServiceHandle to, const Envelope& e) const {
  const std::string& name = services_[to - 1].options.name;
  switch (e.kind) {
    case Envelope::Kind::kRequest:
      return "request '" + e.type + "' (session " + std::to_string(e.session) +
             ") to '" + name + "'";
    case Envelope::Kind::kResponse:
      return (e.error.empty() ? "reply to session "
                              : "error reply to session ") +
             std::to_string(e.session) + " at '" + name + "'";
    case Envelope::Kind::kResume:
      return "wakeup of coroutine " + std::to_string(e.co) + " of '" + name +
             "'";
    case Envelope::Kind::kStart:
      return "fork of coroutine " + std::to_string(e.co) + " in '" + name + "'";
  }
  return "message";
}

std::string Node::describe_waits() {
  // Read without the lock: only called for a deadlock report, when every
  // strand is blocked.
  std::string out;
  auto name = [&](ServiceHandle h) {
    return h == kHost ? std::string("the host")
                      : "service '" + services_[h - 1].options.name + "'";
  };
  for (std::size_t i = 0; i < services_.size(); ++i) {
    const Service& s = services_[i];
    for (const auto& [id, co] : s.cos) {
      if (co->waiting == internal::Co::Wait::kNone) continue;
      out += "; " + name(static_cast<ServiceHandle>(i + 1)) + " coroutine " +
             std::to_string(id) +
             (co->session != 0 ? " (request '" + co->type + "', session " +
                                     std::to_string(co->session) + " from " +
                                     name(co->from) + ")"
                               : " (fork)");
      switch (co->waiting) {
        case internal::Co::Wait::kCall:
          out += " waits for the reply to session " +
                 std::to_string(co->waiting_session) + " from " +
                 name(co->waiting_on);
          break;
        case internal::Co::Wait::kWait:
          out += " waits for a wakeup";
          break;
        case internal::Co::Wait::kSleep:
          out += " sleeps";
          break;
        default:
          out += " is about to resume";
      }
    }
    for (const Envelope& e : s.deferred)
      out += "; " + name(static_cast<ServiceHandle>(i + 1)) +
             " holds request '" + e.type + "' (session " +
             std::to_string(e.session) + " from " + name(e.from) +
             ") until its running request finishes";
  }
  return out.empty() ? "no coroutine waits" : out.substr(2);
}

// --- Request -----------------------------------------------------------------

Request::CallAwaiter Request::call(
    ServiceHandle to, std::string type, std::string payload,
    std::optional<sim::Clock::duration> timeout) {
  return CallAwaiter{*this, to, std::move(type), std::move(payload), timeout};
}

void Request::CallAwaiter::await_suspend(std::coroutine_handle<> h) {
  internal::Co* co = r.co_;
  Node& n = *r.node_;
  std::uint64_t session;
  {
    std::lock_guard lk(n.mu_);
    session = ++n.next_session_;
  }
  co->resume_point = h;
  co->waiting = internal::Co::Wait::kCall;
  co->waiting_session = session;
  co->waiting_on = to;
  co->reply.reset();
  co->reply_error.clear();
  block_user_coroutines(
      co, "waiting for the reply to session " + std::to_string(session));
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kRequest;
  e.from = co->service;
  e.session = session;
  e.reply_expected = true;
  e.type = type;
  e.payload = std::move(payload);
  n.enqueue(to, std::move(e));
  if (timeout) {
    Node::Envelope t;
    t.kind = Node::Envelope::Kind::kResponse;
    t.session = session;
    t.error = "call '" + type + "' (session " + std::to_string(session) +
              ") timed out after " + seconds(*timeout);
    n.add_timer(*timeout, co->service, std::move(t));
  }
}

std::string Request::CallAwaiter::await_resume() {
  internal::Co* co = r.co_;
  if (!co->reply_error.empty()) throw CallError(co->reply_error);
  return std::move(*co->reply);
}

void Request::send(ServiceHandle to, std::string type, std::string payload) {
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kRequest;
  e.from = co_->service;
  e.type = std::move(type);
  e.payload = std::move(payload);
  node_->enqueue(to, std::move(e));
}

std::uint64_t Request::fork(std::function<Task<void>(Request&)> body) {
  internal::Co* co = node_->new_co(co_->service);
  co->type = "fork";
  auto req = std::unique_ptr<Request>(new Request(node_, co, ""));
  Request& r = *req;
  node_->service(co_->service).requests[co->id] = std::move(req);
  co->task = run_fork(std::move(body), r);
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kStart;
  e.co = co->id;
  node_->enqueue(co_->service, std::move(e));
  return co->id;
}

Request::WaitAwaiter Request::wait() { return WaitAwaiter{*this}; }

void Request::WaitAwaiter::await_suspend(std::coroutine_handle<> h) {
  r.co_->resume_point = h;
  r.co_->waiting = internal::Co::Wait::kWait;
  block_user_coroutines(r.co_, "waiting for a wakeup");
}

void Request::wakeup(std::uint64_t id) {
  auto& cos = node_->service(co_->service).cos;
  auto it = cos.find(id);
  if (it == cos.end() || it->second->waiting != internal::Co::Wait::kWait)
    return;  // not waiting: the signal is lost
  it->second->waiting = internal::Co::Wait::kWoken;
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kResume;
  e.co = id;
  node_->enqueue(co_->service, std::move(e));
}

Request::SleepAwaiter Request::sleep(sim::Clock::duration d) {
  return SleepAwaiter{*this, d};
}

void Request::SleepAwaiter::await_suspend(std::coroutine_handle<> h) {
  r.co_->resume_point = h;
  r.co_->waiting = internal::Co::Wait::kSleep;
  block_user_coroutines(r.co_, "sleeping");
  Node::Envelope e;
  e.kind = Node::Envelope::Kind::kResume;
  e.co = r.co_->id;
  r.node_->add_timer(d, r.co_->service, std::move(e));
}

void Request::burn(sim::Clock::duration d) {
  if (sim::Scheduler::current() != nullptr) {
    sim::sleep_for(d);
    return;
  }
  const auto until = cpu_now() + d;
  while (cpu_now() < until) {
  }
}

}  // namespace weft::runtime
