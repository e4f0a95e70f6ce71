#pragma once
// Parsing of the address forms a config may hold: "host:port" listen and origin addresses
// (IPv6 literals bracketed, "[::1]:8080"), CIDR blocks for the admin allow-list, and the host
// patterns services match ("en.wiki.test", "*.wiki.test", "*"). The proxy reuses these so
// that what validate() accepts is exactly what the server can bind to or connect to.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ec::config {

struct HostPort {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
  bool ipv6 = false;     // the host is an IPv6 literal
  bool literal = false;  // the host is an IP literal (v4 or v6), not a name
};

// "127.0.0.1:8080", "[::1]:8080", "origin.example:80". Names are allowed (origins are
// resolved at start-up); use HostPort::literal where an IP is required (listeners).
Result<HostPort> parseHostPort(std::string_view text);

// An address block: "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128).
struct Cidr {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first four bytes
  bool ipv6 = false;
  int prefix_len = 0;
  // True when the 4 (v4) or 16 (v6) bytes of `address` fall inside this block.
  bool contains(const uint8_t* address, bool address_ipv6) const;
};
Result<Cidr> parseCidr(std::string_view text);

// A service host pattern: "*" (any host), "*.example.org" (any subdomain, not the apex) or an
// exact DNS name, lowercase, optionally followed by nothing else (no port, no trailing dot).
Status checkHostPattern(std::string_view pattern);
// Whether a normalised (lowercase, port and trailing dot removed) host matches the pattern.
bool hostMatchesPattern(std::string_view host, std::string_view pattern);

}  // namespace ec::config
