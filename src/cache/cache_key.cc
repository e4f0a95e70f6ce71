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

uint16_t defaultPort(std::string_view lower_scheme) {
  if (lower_scheme == "http") return 80;
  if (lower_scheme == "https") return 443;
  return 0;
}

}  // namespace

std::string normalizeAuthority(std::string_view scheme, std::string_view authority) {
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  // The port separator is the last ':' after any IPv6 literal's closing bracket.
  const size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && bracket != std::string_view::npos && colon < bracket) {
    colon = std::string_view::npos;
  }
  std::string_view host = authority.substr(0, colon);
  std::string_view port =
      colon == std::string_view::npos ? std::string_view() : authority.substr(colon + 1);

  std::string out = toLower(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  if (!port.empty()) {
    auto number = parseDecimal(port);
    if (!number) {
      out.push_back(':');
      out.append(port);  // not a port: keep it verbatim so distinct junk stays distinct
    } else if (*number != defaultPort(toLower(scheme))) {
      out.push_back(':');
      out.append(std::to_string(*number));
    }
  }
  return out;
}

std::string primaryKey(std::string_view scheme, std::string_view authority,
                       std::string_view path_and_query) {
  std::string key = toLower(scheme);
  key.append("://");
  key.append(normalizeAuthority(scheme, authority));
  if (path_and_query == "*") {
    key.append("*");
    return key;
  }
  const size_t question = path_and_query.find('?');
  const std::string_view path = path_and_query.substr(0, question);
  std::string normal_path = removeDotSegments(normalizeEscapes(path, true));
  if (normal_path.empty() || normal_path.front() != '/') normal_path.insert(0, "/");
  key.append(normal_path);
  if (question != std::string_view::npos) {
    key.push_back('?');
    key.append(normalizeEscapes(path_and_query.substr(question + 1), false));
  }
  return key;
}

}  // namespace ec::cache
