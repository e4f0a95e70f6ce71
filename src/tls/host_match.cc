#include "tls/host_match.h"

namespace ec::tls {

std::string normalizeHostName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string wildcardFor(std::string_view host) {
  const size_t dot = host.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= host.size()) return {};
  return "*" + std::string(host.substr(dot));
}

bool certificateNameCovers(std::string_view pattern, std::string_view host) {
  if (host.empty() || pattern.empty()) return false;
  if (pattern.starts_with("*.")) {
    const std::string wildcard = wildcardFor(host);
    return !wildcard.empty() && wildcard == pattern;
  }
  return pattern == host;
}

}  // namespace ec::tls
