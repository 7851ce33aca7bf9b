// Coroutine services: the node (its services, ready queue, workers and
// timers) and the life of a request's coroutine. Requests' own
// operations are in service_request.cc; descriptions in service_report.cc.
#include "runtime/service.h"

#include <bit>

#include "runtime/internal/service_util.h"
#include "runtime/worker.h"

namespace weft::runtime {

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
  if (!e.from_timer && e.sent.sender == sim::kNoStrand)
    e.sent = World::current().stamp();
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

Node::TimerKey Node::add_timer(sim::Clock::duration d, ServiceHandle h,
                               Envelope e) {
  e.from_timer = true;
  std::lock_guard lk(mu_);
  const TimerKey key{sim::Clock::now() + d, ++timer_seq_};
  timers_.emplace(key, TimerEntry{h, std::move(e)});
  ready_cv_.notify_all();
  return key;
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
  World::current().note_message(e.sent, [&] { return describe(h, e); });
  switch (e.kind) {
    case Envelope::Kind::kRequest:
      process_request(h, std::move(e));
      return;
    case Envelope::Kind::kResponse:
      process_response(h, std::move(e));
      return;
    case Envelope::Kind::kResume:
      process_resume(h, e);
      return;
    case Envelope::Kind::kStart: {
      Service& s = service(h);
      auto it = s.cos.find(e.co);
      if (it == s.cos.end()) return;
      run_segment(h, it->second.get(), it->second->task.handle());
      return;
    }
  }
}

void Node::reject_unknown(Service& s, const Envelope& e) {
  const std::string what =
      "service '" + s.options.name + "' has no handler for '" + e.type + "'";
  if (!e.reply_expected) {
    // skynet logs an unknown request; nobody else would hear of it.
    internal::report_lost_error(
        what + " (a send from " +
        (e.from == kHost ? std::string("the host")
                         : "service '" + service(e.from).options.name + "'") +
        ", dropped)");
    return;
  }
  Envelope r;
  r.kind = Envelope::Kind::kResponse;
  r.session = e.session;
  r.error = what;
  enqueue_locked(e.from, std::move(r));
}

void Node::process_request(ServiceHandle h, Envelope e) {
  Service& s = service(h);
  Handler handler;
  {
    std::lock_guard lk(mu_);
    if (s.options.serialise_requests && s.active_requests > 0) {
      s.deferred.push_back(std::move(e));
      return;
    }
    auto it = s.handlers.find(e.type);
    if (it == s.handlers.end()) {
      reject_unknown(s, e);
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
  co->request = req.get();
  s.requests[co->id] = std::move(req);
  co->handler = std::move(handler);
  co->task = co->handler(*co->request);
  run_segment(h, co, co->task.handle());
}

void Node::process_response(ServiceHandle h, Envelope e) {
  for (auto& [id, co] : service(h).cos) {
    if (co->waiting == internal::Co::Wait::kCall &&
        co->waiting_session == e.session) {
      co->waiting = internal::Co::Wait::kNone;
      co->reply = std::move(e.payload);
      co->reply_error = std::move(e.error);
      run_segment(h, co.get(), co->resume_point);
      return;
    }
  }
  // A reply nobody waits for any more (timed out).
}

// A sleep's end or a wakeup: stale (an interrupted sleep's timer) unless
// it carries the token of the coroutine's current sleep or wait.
void Node::process_resume(ServiceHandle h, const Envelope& e) {
  Service& s = service(h);
  auto it = s.cos.find(e.co);
  if (it == s.cos.end()) return;
  internal::Co* co = it->second.get();
  if ((co->waiting != internal::Co::Wait::kSleep &&
       co->waiting != internal::Co::Wait::kWoken) ||
      co->waiting_session != e.session)
    return;
  co->waiting = internal::Co::Wait::kNone;
  co->sleep_timer.reset();
  run_segment(h, co, co->resume_point);
}

void Node::run_segment(ServiceHandle h, internal::Co* co,
                       std::coroutine_handle<> point) {
  for (std::size_t i = 0; i < co->user_stack.size(); ++i)
    *co->user_stack[i].status = i + 1 == co->user_stack.size()
                                    ? internal::CoStatus::kRunning
                                    : internal::CoStatus::kNormal;
  const auto before = internal::cpu_now();
  {
    internal::RunningCo running(co);
    point.resume();
  }
  const auto spent = internal::cpu_now() - before;
  co->cpu += spent;
  {
    std::lock_guard lk(mu_);
    Service& s = service(h);
    s.stats.cpu += spent;
    s.stats.cpu_by_type[co->type] += spent;
  }
  if (co->task.done()) finish(h, co);
}

namespace {

// Where an error came from, for its message.
std::string origin(const std::string& service, const internal::Co& co) {
  return co.is_fork
             ? "coroutine " + std::to_string(co.id) +
                   " (forked by a request '" + co.type + "') on service '" +
                   service + "'"
             : "handler of '" + co.type + "' on service '" + service + "'";
}

}  // namespace

void Node::finish(ServiceHandle h, internal::Co* co) {
  Service& s = service(h);
  std::string value, error;
  try {
    value = co->task.result();
  } catch (const CallError& e) {
    error = e.what();  // a failed call passes through as it is
  } catch (...) {
    // Of any type; a strand's cancellation or abort is rethrown.
    error = origin(s.options.name, *co) + " threw" +
            internal::describe_thrown_for_report();
  }
  if (!co->is_fork && co->reply_expected) {
    Envelope r;
    r.kind = Envelope::Kind::kResponse;
    r.session = co->session;
    r.payload = std::move(value);
    r.error = std::move(error);
    enqueue(co->from, std::move(r));
  } else if (!error.empty()) {
    internal::report_lost_error(error);
  }
  const std::uint64_t id = co->id;
  {
    std::lock_guard lk(mu_);
    if (!co->is_fork) {
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

}  // namespace weft::runtime
