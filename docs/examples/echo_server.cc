// The echo server and client of echo_server.h. Each classic
// bug is one `if (bug_ == ...)` beside the correct code, so the fixed
// server is exactly the buggy one with the branch gone.
#include "docs/examples/echo_server.h"

#include <algorithm>

namespace weft::runtime::echo {

std::string_view to_string(EchoBug bug) {
  switch (bug) {
    case EchoBug::kNone:
      return "fixed";
    case EchoBug::kAssumesFullWrite:
      return "assumes-full-write";
    case EchoBug::kReadinessIsPromise:
      return "readiness-is-a-promise";
    case EchoBug::kClosesOnHalfClose:
      return "closes-on-half-close";
    case EchoBug::kEdgeStopsBeforeEagain:
      return "edge-stops-before-eagain";
    case EchoBug::kTimerBreaksOnClockJump:
      return "timer-breaks-on-clock-jump";
  }
  return "?";
}

EchoServer::EchoServer(Reactor& r, const std::string& address, EchoBug bug,
                       Trigger trigger)
    : r_(r), net_(r.network()), bug_(bug), trigger_(trigger) {
  listener_ = net_.listen(address);
  address_ = net_.local_address(listener_);
  r_.watch(listener_, true, false, trigger_,
           [this](const IoEvent&) { on_accept(); });
}

EchoServer::~EchoServer() { close(); }

void EchoServer::close() {
  if (listener_ != kNoFd) {
    r_.unwatch(listener_);
    net_.close(listener_);
    listener_ = kNoFd;
  }
  while (!conns_.empty()) drop(conns_.begin()->first);
}

void EchoServer::on_accept() {
  // Edge-triggered: only this wake-up says connections are waiting, so
  // accept until there are none (an accept storm brings many at once).
  for (;;) {
    const Fd fd = net_.accept(listener_);
    if (fd == kNoFd) return;
    ++stats_.accepted;
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    Conn& conn = *c;
    conns_[fd] = std::move(c);
    r_.watch(fd, true, false, trigger_,
             [this, fd](const IoEvent& e) { on_event(fd, e); });
    arm_idle(conn);
  }
}

void EchoServer::on_event(Fd fd, const IoEvent& e) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (e.readable && !read_input(c)) return;
  flush(c);
}

bool EchoServer::read_input(Conn& c) {
  char buf[256];
  for (bool first = true;; first = false) {
    const IoResult r = net_.read(c.fd, buf, sizeof buf);
    if (r.status == IoStatus::kOk) {
      // Once closing, input is read and dropped: a level-triggered
      // socket left readable would wake the loop for ever.
      if (!c.closing) c.in.append(buf, r.bytes);
      c.activity += r.bytes;
      stats_.bytes_in += r.bytes;
      // BUG: one read per edge; the rest waits for an edge that never comes.
      if (bug_ == EchoBug::kEdgeStopsBeforeEagain) break;
      continue;
    }
    if (r.status == IoStatus::kAgain) {
      // BUG: readiness taken as a promise: a wake-up "guarantees" data.
      if (bug_ == EchoBug::kReadinessIsPromise && first) {
        ++stats_.protocol_errors;
        drop(c.fd);
        return false;
      }
      break;
    }
    if (r.status == IoStatus::kEof) {
      c.eof = true;
      break;
    }
    ++stats_.resets;
    drop(c.fd);
    return false;
  }
  handle_lines(c);
  return true;
}

void EchoServer::handle_lines(Conn& c) {
  std::size_t nl;
  while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
    const std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    const bool ok = !line.empty() && line.size() <= 64 &&
                    std::all_of(line.begin(), line.end(), [](char ch) {
                      return ch >= 0x20 && ch < 0x7f;
                    });
    if (!ok) {
      ++stats_.protocol_errors;
      c.out += "error: bad request\n";
      c.closing = true;
      break;
    }
    ++stats_.requests;
    c.out += line + "\n";
  }
  if (c.eof && !c.closing) {
    if (!c.in.empty()) {
      ++stats_.protocol_errors;
      c.out += "error: truncated\n";
    }
    c.closing = true;
  }
  if (c.in.size() > 64 && !c.closing) {  // a line too long to wait for
    ++stats_.protocol_errors;
    c.out += "error: bad request\n";
    c.closing = true;
  }
}

bool EchoServer::flush(Conn& c) {
  while (!c.out.empty()) {
    const IoResult r = net_.write(c.fd, c.out.data(), c.out.size());
    if (r.status == IoStatus::kOk) {
      stats_.bytes_out += r.bytes;
      c.out.erase(0, r.bytes);
      // BUG: the write is assumed to have taken everything.
      if (bug_ == EchoBug::kAssumesFullWrite) c.out.clear();
      continue;
    }
    if (r.status == IoStatus::kReset) {
      ++stats_.resets;
      drop(c.fd);
      return false;
    }
    break;  // kAgain: the rest waits for writability
  }
  // BUG: the peer half-closed, so the server closes, flushed or not.
  if (bug_ == EchoBug::kClosesOnHalfClose && c.eof) {
    drop(c.fd);
    return false;
  }
  if (c.out.empty() && c.closing) {
    if (!c.shut) {
      c.shut = true;
      net_.shutdown_write(c.fd);
    }
    // A lingering close: read and drop until the peer's EOF, since bytes
    // it sends after the close would reset the connection, and the reset
    // can destroy the answer before the peer reads it.
    if (c.eof) {
      drop(c.fd);
      return false;
    }
  }
  // Read until EOF (a level-triggered EOF stays readable: watching it
  // would wake the loop for ever), write while answers wait.
  const bool read = !c.eof, write = !c.out.empty();
  if (read != c.want_read || write != c.want_write) {
    c.want_read = read;
    c.want_write = write;
    const Fd fd = c.fd;
    r_.watch(fd, read, write, trigger_,
             [this, fd](const IoEvent& e) { on_event(fd, e); });
  }
  return true;
}

void EchoServer::arm_idle(Conn& c) {
  const Fd fd = c.fd;
  const auto due = sim::Clock::now() + kIdle;
  const std::uint64_t seen = c.activity;
  c.idle =
      r_.call_later(kIdle, [this, fd, due, seen] { on_idle(fd, due, seen); });
}

void EchoServer::on_idle(Fd fd, sim::Clock::time_point due,
                         std::uint64_t activity) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  // A timer far later than its deadline means the machine was suspended
  // (the clock jumped): the peer had no chance to be active, so the state
  // gets a fresh period instead of a verdict.
  const bool jumped = sim::Clock::now() - due > kIdle / 2;
  if (c.activity != activity ||
      (jumped && bug_ != EchoBug::kTimerBreaksOnClockJump)) {
    arm_idle(c);
    return;
  }
  // BUG (kTimerBreaksOnClockJump): no lateness check, so a suspension
  // closes connections whose requests are on their way.
  ++stats_.idle_timeouts;
  drop(fd);
}

void EchoServer::drop(Fd fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  it->second->idle.cancel();
  r_.unwatch(fd);
  net_.close(fd);
  conns_.erase(it);
}

// --- the client --------------------------------------------------------------

EchoClient::EchoClient(Reactor& r, const std::string& address,
                       std::string request, Trigger trigger,
                       std::function<void()> done)
    : r_(r),
      net_(r.network()),
      trigger_(trigger),
      fd_(net_.connect(address)),
      out_(std::move(request)),
      done_(std::move(done)) {
  r_.watch(fd_, true, true, trigger_,
           [this](const IoEvent& e) { on_event(e); });
}

void EchoClient::on_event(const IoEvent& e) {
  if (finished_) return;
  (void)e;  // a hint only: try both directions
  while (!out_.empty()) {
    const IoResult w = net_.write(fd_, out_.data(), out_.size());
    if (w.status == IoStatus::kReset) return finish(true);
    if (w.status == IoStatus::kAgain) break;
    out_.erase(0, w.bytes);
  }
  if (out_.empty() && !shut_) {
    shut_ = true;
    net_.shutdown_write(fd_);
    r_.watch(fd_, true, false, trigger_,
             [this](const IoEvent& ev) { on_event(ev); });
  }
  char buf[512];
  for (;;) {
    const IoResult rd = net_.read(fd_, buf, sizeof buf);
    if (rd.status == IoStatus::kOk) {
      received_.append(buf, rd.bytes);
      continue;
    }
    if (rd.status == IoStatus::kAgain) return;
    return finish(rd.status == IoStatus::kReset);
  }
}

void EchoClient::finish(bool reset) {
  finished_ = true;
  reset_ = reset;
  r_.unwatch(fd_);
  net_.close(fd_);
  if (done_) done_();
}

std::string request_lines(int id, int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "client " + std::to_string(id) + " line " + std::to_string(i) + " " +
         std::string(static_cast<std::size_t>((i * 7 + id) % 40), 'x') + "\n";
  return s;
}

}  // namespace weft::runtime::echo
