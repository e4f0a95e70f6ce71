#include "config/address.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "base/strings.h"

namespace ec::config {
namespace {

Failure invalid(std::string context) {
  return fail(Error::internal(ErrorKind::kInvalidArgument, std::move(context)));
}

bool isHostNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '.';
}

// A DNS name: dot-separated labels of letters, digits and hyphens, none empty, none starting or
// ending with a hyphen, at most 63 bytes each and 253 in all.
bool isDnsName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!isHostNameChar(c) || c == '.') return false;
    }
    start = dot + 1;
  }
  return true;
}

}  // namespace

Result<HostPort> parseHostPort(std::string_view text) {
  HostPort result;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return invalid("missing ':port' after ']'");
    port = rest.substr(1);
    in6_addr scratch;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &scratch) != 1) {
      return invalid("'" + std::string(host) + "' is not an IPv6 address");
    }
    result.ipv6 = true;
    result.literal = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("missing ':port' (expected host:port)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return invalid("IPv6 addresses must be bracketed, as in [::1]:8080");
    }
    in_addr scratch;
    if (inet_pton(AF_INET, std::string(host).c_str(), &scratch) == 1) {
      result.literal = true;
    } else if (!isDnsName(host)) {
      return invalid("'" + std::string(host) + "' is neither an IP address nor a host name");
    }
  }
  auto number = parseDecimal(port);
  if (!number || *number == 0 || *number > 65535) {
    return invalid("port '" + std::string(port) + "' is not a number from 1 to 65535");
  }
  result.host = std::string(host);
  result.port = static_cast<uint16_t>(*number);
  return result;
}

bool Cidr::contains(const uint8_t* address, bool address_ipv6) const {
  if (address_ipv6 != ipv6) return false;
  int full_bytes = prefix_len / 8;
  if (std::memcmp(address, bytes.data(), static_cast<size_t>(full_bytes)) != 0) return false;
  int rest_bits = prefix_len % 8;
  if (rest_bits == 0) return true;
  auto mask = static_cast<uint8_t>(0xFF << (8 - rest_bits));
  return (address[full_bytes] & mask) == (bytes[static_cast<size_t>(full_bytes)] & mask);
}

Result<Cidr> parseCidr(std::string_view text) {
  Cidr cidr;
  std::string_view address = text;
  std::optional<uint64_t> prefix;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    prefix = parseDecimal(text.substr(slash + 1));
    if (!prefix)
      return invalid("prefix length '" + std::string(text.substr(slash + 1)) + "' is not a number");
  }
  const std::string host(address);
  if (inet_pton(AF_INET, host.c_str(), cidr.bytes.data()) == 1) {
    cidr.ipv6 = false;
  } else if (inet_pton(AF_INET6, host.c_str(), cidr.bytes.data()) == 1) {
    cidr.ipv6 = true;
  } else {
    return invalid("'" + host + "' is not an IPv4 or IPv6 address");
  }
  const uint64_t max_prefix = cidr.ipv6 ? 128 : 32;
  if (prefix && *prefix > max_prefix) {
    return invalid("prefix length /" + std::to_string(*prefix) + " is longer than /" +
                   std::to_string(max_prefix));
  }
  cidr.prefix_len = static_cast<int>(prefix.value_or(max_prefix));
  return cidr;
}

Status checkHostPattern(std::string_view pattern) {
  if (pattern == "*") return {};
  std::string_view name = pattern;
  if (pattern.starts_with("*.")) name = pattern.substr(2);
  if (name.find('*') != std::string_view::npos) {
    return invalid("a wildcard is allowed only as the whole first label, as in *.example.org");
  }
  if (name.find(':') != std::string_view::npos) return invalid("host patterns carry no port");
  if (name.ends_with('.')) return invalid("host patterns carry no trailing dot");
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') return invalid("host patterns are lowercase");
  }
  if (!isDnsName(name)) return invalid("'" + std::string(name) + "' is not a valid host name");
  return {};
}

bool hostMatchesPattern(std::string_view host, std::string_view pattern) {
  if (pattern == "*") return true;
  if (pattern.starts_with("*.")) {
    std::string_view suffix = pattern.substr(1);  // ".example.org"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return host == pattern;
}

}  // namespace ec::config
