#pragma once
// HtcpListener: receives HTCP CLR purges over UDP, unicast and multicast (it joins the
// configured groups), on a thread of its own so that workers never wait for it. Each packet
// is checked against the source ACL, decoded (htcp_packet.h) and applied through the Purger
// (thread-safe stores). For senders known to use sequential transaction ids (newer MediaWiki),
// gaps in the ids count as lost purges; other senders use random ids and are not tracked.

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "admin/access_list.h"
#include "base/result.h"
#include "net/socket.h"
#include "purge/purger.h"

namespace ec::purge {

struct HtcpListenerOptions {
  std::string address;                  // "0.0.0.0:4827"
  std::vector<std::string> groups;      // IPv4 multicast groups to join
  std::string interface = "0.0.0.0";    // local IPv4 address to join them on
  admin::AccessList allow;              // senders accepted
  admin::AccessList sequential;         // senders whose ids are sequential
};

// Gap counting for one sender with sequential ids. A jump of more than kMaxGap (or going
// backwards) is taken as the sender restarting or wrapping, not as loss.
class SequenceTracker {
 public:
  static constexpr uint32_t kMaxGap = 1u << 20;
  // Returns how many ids were skipped before `id` from this sender.
  uint64_t observe(const std::string& sender, uint32_t id);
  size_t senders() const { return last_.size(); }

 private:
  static constexpr size_t kMaxSenders = 65536;
  std::unordered_map<std::string, uint32_t> last_;
};

class HtcpListener {
 public:
  HtcpListener(Purger& purger, HtcpListenerOptions options);
  ~HtcpListener();
  HtcpListener(const HtcpListener&) = delete;
  HtcpListener& operator=(const HtcpListener&) = delete;

  // Binds, joins the groups and starts the receiving thread.
  Status start();
  void stop();
  uint16_t port() const { return port_; }

  // One datagram from `from` (also the fuzz and unit-test entry point; receiving thread only).
  void handlePacket(std::string_view packet, const net::SocketAddress& from);

 private:
  void run();

  Purger& purger_;
  HtcpListenerOptions options_;
  net::UniqueFd socket_;
  net::UniqueFd wake_;  // eventfd: stop() wakes the thread
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  SequenceTracker sequences_;
};

}  // namespace ec::purge
