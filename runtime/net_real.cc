// The OS network behind runtime/net.h: non-blocking TCP and Unix-domain
// sockets, readiness from epoll (EPOLLET for edge-triggered watches), an
// eventfd to wake a waiting loop from another thread.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/net.h"

namespace weft::runtime {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw NetError(what + ": " + std::strerror(errno));
}

// A parsed address: the sockaddr and its length.
struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = AF_INET;
};

SockAddr parse(const std::string& address) {
  SockAddr a;
  if (address.rfind("unix:", 0) == 0) {
    auto* un = reinterpret_cast<sockaddr_un*>(&a.storage);
    const std::string path = address.substr(5);
    if (path.empty() || path.size() >= sizeof un->sun_path)
      throw NetError("bad unix address '" + address + "'");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
    a.len = sizeof(sockaddr_un);
    a.family = AF_UNIX;
    return a;
  }
  const auto colon = address.rfind(':');
  if (address.rfind("tcp:", 0) != 0 || colon <= 4)
    throw NetError("bad address '" + address +
                   "' (expected tcp:HOST:PORT or unix:PATH)");
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
  in->sin_family = AF_INET;
  const std::string host = address.substr(4, colon - 4);
  if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1)
    throw NetError("bad IPv4 host in '" + address + "'");
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) > 65535)
    throw NetError("bad port in '" + address + "'");
  in->sin_port = htons(static_cast<std::uint16_t>(std::stoul(port)));
  a.len = sizeof(sockaddr_in);
  return a;
}

Fd new_socket(int family) {
  const Fd fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  return fd;
}

IoResult from_errno(ssize_t r) {
  if (r > 0) return {IoStatus::kOk, static_cast<std::size_t>(r)};
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return {IoStatus::kAgain, 0};
  return {IoStatus::kReset, 0};
}

class EpollPoller final : public Poller {
 public:
  EpollPoller()
      : ep_(::epoll_create1(EPOLL_CLOEXEC)),
        wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (ep_ < 0 || wake_fd_ < 0) fail("epoll/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, wake_fd_, &ev);
  }
  ~EpollPoller() override {
    ::close(ep_);
    ::close(wake_fd_);
  }
  void watch(Fd fd, bool read, bool write, Trigger trigger) override {
    epoll_event ev{};
    ev.events = (read ? EPOLLIN | EPOLLRDHUP : 0u) | (write ? EPOLLOUT : 0u) |
                (trigger == Trigger::kEdge ? EPOLLET : 0u);
    ev.data.fd = fd;
    if (::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) != 0 &&
        ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0)
      fail("epoll_ctl");
  }
  void unwatch(Fd fd) override { ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr); }
  std::vector<IoEvent> wait(
      std::optional<sim::Clock::time_point> deadline) override {
    int timeout = -1;
    if (deadline) {
      const auto left = *deadline - sim::Clock::now();
      timeout =
          left.count() <= 0
              ? 0
              : static_cast<int>(
                    std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
    epoll_event evs[64];
    const int n = ::epoll_wait(ep_, evs, 64, timeout);
    std::vector<IoEvent> out;
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd == wake_fd_) {
        std::uint64_t v;
        while (::read(wake_fd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      const auto e = evs[i].events;
      out.push_back(
          {.fd = evs[i].data.fd,
           .readable = (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0,
           .writable = (e & (EPOLLOUT | EPOLLERR)) != 0});
    }
    return out;
  }
  void wake() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(wake_fd_, &one, sizeof one);
  }

 private:
  int ep_;
  int wake_fd_;
};

class RealNetwork final : public Network {
 public:
  Fd listen(const std::string& address) override {
    const SockAddr a = parse(address);
    const Fd fd = new_socket(a.family);
    const int one = 1;
    if (a.family == AF_INET)
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else
      ::unlink(reinterpret_cast<const sockaddr_un*>(&a.storage)->sun_path);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.len) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      ::close(fd);
      fail("listen on " + address);
    }
    return fd;
  }
  std::string local_address(Fd listener) override {
    sockaddr_storage s{};
    socklen_t len = sizeof s;
    if (::getsockname(listener, reinterpret_cast<sockaddr*>(&s), &len) != 0)
      fail("getsockname");
    if (s.ss_family == AF_UNIX)
      return std::string("unix:") +
             reinterpret_cast<const sockaddr_un*>(&s)->sun_path;
    const auto* in = reinterpret_cast<const sockaddr_in*>(&s);
    char host[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string("tcp:") + host + ":" +
           std::to_string(ntohs(in->sin_port));
  }
  Fd accept(Fd listener) override {
    const Fd fd =
        ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? kNoFd : fd;
  }
  Fd connect(const std::string& address) override {
    const SockAddr a = parse(address);
    const Fd fd = new_socket(a.family);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.len) !=
            0 &&
        errno != EINPROGRESS && errno != EAGAIN) {
      ::close(fd);
      fail("connect to " + address);
    }
    return fd;
  }
  IoResult read(Fd fd, char* buf, std::size_t n) override {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r == 0) return {IoStatus::kEof, 0};
    return from_errno(r);
  }
  IoResult write(Fd fd, const char* buf, std::size_t n) override {
    return from_errno(::send(fd, buf, n, MSG_NOSIGNAL));
  }
  void shutdown_write(Fd fd) override { ::shutdown(fd, SHUT_WR); }
  void close(Fd fd) override { ::close(fd); }
  std::unique_ptr<Poller> make_poller() override {
    return std::make_unique<EpollPoller>();
  }
};

}  // namespace

Network& real_network() {
  static RealNetwork net;
  return net;
}

}  // namespace weft::runtime
