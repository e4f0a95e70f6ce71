#include "cache/cache_key.h"

#include "base/strings.h"

namespace ec::cache {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Uppercases escape hex digits; decodes escapes of unreserved characters when asked. A '%'
// not followed by two hex digits is kept verbatim: it is not an escape, and rejecting it is
// the parser's job, not the key's.
std::string normalizeEscapes(std::string_view text, bool decode_unreserved) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
        hexValue(text[i + 2]) >= 0) {
      const int byte = hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]);
      const char decoded = static_cast<char>(byte);
      if (decode_unreserved && isUnreserved(decoded)) {
        out.push_back(decoded);
      } else {
        out.push_back('%');
        out.push_back(kHex[byte >> 4]);
        out.push_back(kHex[byte & 0xF]);
      }
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void popLastSegment(std::string& out) {
  const size_t slash = out.rfind('/');
  out.resize(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 §5.2.4 remove_dot_segments, on an absolute path.
std::string removeDotSegments(std::string_view input) {
  std::string out;
  out.reserve(input.size());
  while (!input.empty()) {
    if (input.starts_with("../")) {
      input.remove_prefix(3);
    } else if (input.starts_with("./")) {
      input.remove_prefix(2);
    } else if (input.starts_with("/./")) {
      input.remove_prefix(2);
    } else if (input == "/.") {
      input = "/";
    } else if (input.starts_with("/../")) {
      input.remove_prefix(3);
      popLastSegment(out);
    } else if (input == "/..") {
      input = "/";
      popLastSegment(out);
    } else if (input == "." || input == "..") {
      input = {};
    } else {
      // Move the first segment (with its leading '/', if any) to the output.
      size_t end = input.find('/', input.front() == '/' ? 1 : 0);
      if (end == std::string_view::npos) end = input.size();
      out.append(input.substr(0, end));
      input.remove_prefix(end);
    }
  }
  return out;
}

}  // namespace

namespace {

void appendLower(std::string& out, std::string_view text) {
  const size_t at = out.size();
  out.append(text);
  // Local bounds: stores through a char* could alias the string's own size and pointer.
  char* const first = out.data() + at;
  const size_t size = text.size();
  for (size_t i = 0; i < size; ++i) first[i] = asciiLower(first[i]);
}

bool isAllDigits(std::string_view text) {
  for (char c : text) {
    if (!isDigit(c)) return false;
  }
  return true;
}

bool isDefaultPort(std::string_view scheme, uint64_t port) {
  if (scheme.size() == 4 && equalsIgnoreCase(scheme, "http")) return port == 80;
  if (scheme.size() == 5 && equalsIgnoreCase(scheme, "https")) return port == 443;
  return false;
}

void appendAuthority(std::string& out, std::string_view scheme, std::string_view authority) {
  // Userinfo ends at the last '@'; the port separator is the last ':' after it, unless an
  // IPv6 literal's closing bracket comes later. No '@' (nearly always) costs one memchr.
  if (authority.find('@') != std::string_view::npos) {
    authority.remove_prefix(authority.rfind('@') + 1);
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos &&
      authority.find(']', colon + 1) != std::string_view::npos) {
    colon = std::string_view::npos;  // inside an IPv6 literal: no port
  }
  std::string_view host = authority.substr(0, colon);
  std::string_view port =
      colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  appendLower(out, host);
  if (!port.empty()) {
    // The common case first: a canonical port number that is not the scheme's default (1 to
    // 5 digits, no leading zero, so it cannot overflow) is already its normal form.
    if (port.size() <= 5 && port.front() != '0' && isAllDigits(port) && port != "80" &&
        port != "443") {
      out.push_back(':');
      out.append(port);
      return;
    }
    auto number = parseDecimal(port);
    if (!number) {
      out.push_back(':');
      out.append(port);  // not a port: keep it verbatim so distinct junk stays distinct
    } else if (!isDefaultPort(scheme, *number)) {
      out.push_back(':');
      // Canonical digits (no leading zero) are already the normal form.
      if (port.front() != '0') out.append(port);
      else out.append(std::to_string(*number));
    }
  }
}

// True when the path needs no escape or dot-segment work: the common case, appended as is.
bool isPlainPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find('%') != std::string_view::npos) return false;
  for (size_t dot = path.find("/."); dot != std::string_view::npos; dot = path.find("/.", dot + 1)) {
    const std::string_view rest = path.substr(dot + 2);
    if (rest.empty() || rest.front() == '/' || rest.front() == '.') return false;
  }
  return true;
}

}  // namespace

std::string normalizeAuthority(std::string_view scheme, std::string_view authority) {
  std::string out;
  appendAuthority(out, scheme, authority);
  return out;
}

std::string primaryKey(std::string_view scheme, std::string_view authority,
                       std::string_view path_and_query) {
  std::string key;
  appendPrimaryKey(key, scheme, authority, path_and_query);
  return key;
}

void appendPrimaryKey(std::string& key, std::string_view scheme, std::string_view authority,
                      std::string_view path_and_query) {
  key.reserve(key.size() + scheme.size() + 3 + authority.size() + path_and_query.size() + 1);
  appendKeyOrigin(key, scheme, authority);
  appendKeyTarget(key, path_and_query);
}

void appendKeyOrigin(std::string& key, std::string_view scheme, std::string_view authority) {
  appendLower(key, scheme);
  key.append("://");
  appendAuthority(key, scheme, authority);
}

void appendKeyTarget(std::string& key, std::string_view path_and_query) {
  if (path_and_query == "*") {
    key.append("*");
    return;
  }
  const size_t question = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, question);
  if (isPlainPath(path)) {
    key.append(path);
  } else {
    std::string normal_path = removeDotSegments(normalizeEscapes(path, true));
    if (normal_path.empty() || normal_path.front() != '/') key.push_back('/');
    key.append(normal_path);
  }
  if (question != std::string_view::npos) {
    key.push_back('?');
    const std::string_view query = path_and_query.substr(question + 1);
    if (query.find('%') == std::string_view::npos) key.append(query);
    else key.append(normalizeEscapes(query, false));
  }
}

}  // namespace ec::cache
