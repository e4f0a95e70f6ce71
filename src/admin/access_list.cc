#include "admin/access_list.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"

namespace ec::admin {

Result<AccessList> AccessList::parse(const std::vector<std::string>& cidrs) {
  AccessList list;
  for (const std::string& text : cidrs) {
    Range range;
    std::string address = text;
    int max_prefix = 0;
    const size_t slash = text.find('/');
    std::optional<uint64_t> prefix;
    if (slash != std::string::npos) {
      address = text.substr(0, slash);
      prefix = parseDecimal(std::string_view(text).substr(slash + 1));
    }
    if (inet_pton(AF_INET, address.c_str(), range.bytes) == 1) {
      range.family = AF_INET;
      max_prefix = 32;
    } else if (inet_pton(AF_INET6, address.c_str(), range.bytes) == 1) {
      range.family = AF_INET6;
      max_prefix = 128;
    } else {
      return fail(Error::internal(ErrorKind::kInvalidArgument, "'" + text + "' is not an address or CIDR"));
    }
    if (slash != std::string::npos && (!prefix || *prefix > static_cast<uint64_t>(max_prefix))) {
      return fail(Error::internal(ErrorKind::kInvalidArgument, "'" + text + "' has a bad prefix length"));
    }
    range.prefix = prefix ? static_cast<int>(*prefix) : max_prefix;
    list.ranges_.push_back(range);
  }
  return list;
}

bool AccessList::allows(const net::SocketAddress& peer) const {
  uint8_t bytes[16] = {};
  int family = peer.family();
  if (family == AF_INET) {
    std::memcpy(bytes, &reinterpret_cast<const sockaddr_in*>(&peer.storage)->sin_addr, 4);
  } else if (family == AF_INET6) {
    const auto* v6 = &reinterpret_cast<const sockaddr_in6*>(&peer.storage)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(v6)) {  // an IPv4 client on a dual-stack socket
      family = AF_INET;
      std::memcpy(bytes, v6->s6_addr + 12, 4);
    } else {
      std::memcpy(bytes, v6->s6_addr, 16);
    }
  } else {
    return false;
  }
  for (const Range& range : ranges_) {
    if (range.family != family) continue;
    int bits = range.prefix;
    bool match = true;
    for (int i = 0; bits > 0 && match; ++i, bits -= 8) {
      const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
      match = (bytes[i] & mask) == (range.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

}  // namespace ec::admin
