#pragma once
// AccessList: which client addresses may use an endpoint (CIDR allow list). Closed by default:
// an empty list allows nobody.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/socket.h"

namespace ec::admin {

class AccessList {
 public:
  // Parses "127.0.0.1/32", "::1/128", "10.0.0.0/8", or a bare address (a /32 or /128).
  static Result<AccessList> parse(const std::vector<std::string>& cidrs);
  bool allows(const net::SocketAddress& peer) const;

 private:
  struct Range {
    int family = 0;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  std::vector<Range> ranges_;
};

}  // namespace ec::admin
