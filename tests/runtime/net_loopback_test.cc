// The fixed echo server on real sockets: TCP and Unix-domain loopback,
// level- and edge-triggered, under load (bounded count, stops by itself,
// a 60-second guard against a hang), with every byte accounted for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/runtime/echo_harness.h"

namespace weft::runtime::echo {
namespace {

void load(const std::string& address, Trigger trigger) {
  const int clients = 32, lines = 300;
  const auto r = run_exchange({.server_trigger = trigger,
                               .client_trigger = trigger,
                               .clients = clients,
                               .lines = lines,
                               .address = address});
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.server.accepted, static_cast<std::uint64_t>(clients));
  EXPECT_EQ(r.server.requests, static_cast<std::uint64_t>(clients * lines));
  EXPECT_EQ(r.server.bytes_in, r.bytes_sent);
  EXPECT_EQ(r.server.bytes_out, r.bytes_sent);
  EXPECT_EQ(r.bytes_received, r.bytes_sent);
  EXPECT_EQ(r.server.protocol_errors + r.server.resets + r.server.idle_timeouts,
            0u);
}

TEST(Loopback, TcpLevelTriggeredLoadAccountsForEveryByte) {
  load("tcp:127.0.0.1:0", Trigger::kLevel);
}

TEST(Loopback, TcpEdgeTriggeredLoadAccountsForEveryByte) {
  load("tcp:127.0.0.1:0", Trigger::kEdge);
}

TEST(Loopback, UnixDomainEdgeTriggeredLoadAccountsForEveryByte) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("weft-net-" + std::to_string(::getpid()) + ".sock"))
          .string();
  load("unix:" + path, Trigger::kEdge);
  std::filesystem::remove(path);
}

TEST(Loopback, ABadAddressIsANetErrorNamingIt) {
  Network& net = real_network();
  for (const char* bad : {"tcp:127.0.0.1:http", "tcp:127.0.0.1:70000",
                          "tcp:nohost:80", "udp:1.2.3.4:5", "unix:"}) {
    try {
      net.connect(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const NetError& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(Loopback, AConnectToNothingIsAResetNotACrash) {
  Reactor r;
  Network& net = r.network();
  const Fd l = net.listen("tcp:127.0.0.1:0");
  const std::string address = net.local_address(l);
  net.close(l);  // nobody listens there now
  EchoClient c(r, address, "hello\n", Trigger::kLevel, [&] { r.stop(); });
  r.run();
  EXPECT_TRUE(c.finished());
  EXPECT_TRUE(c.reset());
  EXPECT_EQ(c.received(), "");
}

}  // namespace
}  // namespace weft::runtime::echo
