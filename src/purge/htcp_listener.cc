#include "purge/htcp_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "purge/htcp_packet.h"

namespace ec::purge {
namespace {

// The sender's address bytes (4 or 16), as the key of its sequence.
std::string senderKey(const net::SocketAddress& from) {
  if (from.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&from.storage);
    return std::string(reinterpret_cast<const char*>(&v4->sin_addr), 4);
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&from.storage);
  return std::string(reinterpret_cast<const char*>(&v6->sin6_addr), 16);
}

Error systemError(const std::string& what) {
  return Error::internal(ErrorKind::kInvalidArgument, what + ": " + std::strerror(errno));
}

}  // namespace

uint64_t SequenceTracker::observe(const std::string& sender, uint32_t id) {
  auto it = last_.find(sender);
  if (it == last_.end()) {
    if (last_.size() < kMaxSenders) last_.emplace(sender, id);
    return 0;
  }
  const uint32_t previous = it->second;
  it->second = id;
  const uint32_t step = id - previous;  // modulo 2^32: a wrap from 0xffffffff to 0 is a step of 1
  if (step == 0 || step > kMaxGap) return 0;  // duplicate, reordered, or the sender restarted
  return step - 1;
}

HtcpListener::HtcpListener(Purger& purger, HtcpListenerOptions options)
    : purger_(purger), options_(std::move(options)) {}

HtcpListener::~HtcpListener() { stop(); }

Status HtcpListener::start() {
  auto address = net::parseSocketAddress(options_.address);
  if (!address.ok()) return fail(address.error());
  net::UniqueFd fd(::socket(address->family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(systemError("htcp socket"));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Purge bursts (a template edit fans out to many pages) arrive faster than one thread
  // drains them for a moment: a deep receive buffer keeps them.
  const int buffer = 8 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (::bind(fd.get(), address->get(), address->length) != 0) {
    return fail(systemError("htcp bind " + options_.address));
  }
  for (const std::string& group : options_.groups) {
    ip_mreq request{};
    if (inet_pton(AF_INET, group.c_str(), &request.imr_multiaddr) != 1 ||
        inet_pton(AF_INET, options_.interface.c_str(), &request.imr_interface) != 1) {
      return fail(Error::internal(ErrorKind::kInvalidArgument,
                                  "htcp group " + group + " on " + options_.interface));
    }
    if (::setsockopt(fd.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &request, sizeof request) != 0) {
      return fail(systemError("htcp join " + group + " on " + options_.interface));
    }
  }
  port_ = net::localAddress(fd.get()).port();
  wake_ = net::UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_) return fail(systemError("htcp eventfd"));
  socket_ = std::move(fd);
  thread_ = std::thread([this] { run(); });
  return {};
}

void HtcpListener::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t written = ::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

void HtcpListener::run() {
  char packet[65536];
  pollfd fds[2] = {{socket_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      EC_LOG_ERROR("htcp: poll failed: %s", std::strerror(errno));
      return;
    }
    // Drain what is queued; each datagram is one purge.
    for (int i = 0; i < 1024 && !stopping_.load(std::memory_order_relaxed); ++i) {
      net::SocketAddress from;
      from.length = sizeof from.storage;
      const ssize_t size = ::recvfrom(socket_.get(), packet, sizeof packet, 0,
                                      reinterpret_cast<sockaddr*>(&from.storage), &from.length);
      if (size < 0) break;  // EAGAIN: back to poll
      handlePacket(std::string_view(packet, static_cast<size_t>(size)), from);
    }
  }
}

void HtcpListener::handlePacket(std::string_view packet, const net::SocketAddress& from) {
  purger_.countReceived(PurgeSource::kHtcp);
  if (!options_.allow.allows(from)) {
    purger_.countRejected(PurgeSource::kHtcp, RejectReason::kForbidden);
    return;
  }
  const HtcpDecodeResult decoded = decodeHtcpClr(packet);
  if (!decoded.ok) {
    purger_.countRejected(PurgeSource::kHtcp, decoded.error == HtcpError::kNotClr
                                                  ? RejectReason::kNotClr
                                                  : RejectReason::kMalformed);
    return;
  }
  if (options_.sequential.allows(from)) {
    const uint64_t lost = sequences_.observe(senderKey(from), decoded.clr.transaction_id);
    if (lost != 0) purger_.stats().htcp_lost.fetch_add(lost, std::memory_order_relaxed);
  }
  // Counted as received above; purgeUrl would count it again.
  auto target = parsePurgeUrl(decoded.clr.uri);
  if (!target.ok()) {
    purger_.countRejected(PurgeSource::kHtcp, RejectReason::kMalformed);
    return;
  }
  purger_.applyReceived(PurgeSource::kHtcp, *target);
}

}  // namespace ec::purge
