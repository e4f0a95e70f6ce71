#include "h2/request_conversion.h"

#include <charconv>
#include <cstring>

#include "http/syntax.h"

namespace ec::h2 {
namespace {

using http::isTokenChar;

bool isLowerToken(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!isTokenChar(c) || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

bool isUpperToken(std::string_view method) {
  if (method.empty()) return false;
  for (unsigned char c : method) {
    if (!isTokenChar(c)) return false;
  }
  return true;
}

// RFC 9113 §8.2.1: no NUL, CR, LF; no leading or trailing SP/HTAB. Other controls and DEL are
// refused too (an HTTP/1.1 origin would choke on them).
bool isCleanValue(std::string_view value) {
  if (!value.empty() && (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' ||
                         value.back() == '\t')) {
    return false;
  }
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// origin-form: "/" then visible ASCII without '#'; or exactly "*".
bool isCleanPath(std::string_view path, bool options) {
  if (path == "*") return options;
  if (path.empty() || path.front() != '/') return false;
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
  }
  return true;
}

// reg-name or IPv4 or [IPv6], optional :port; no userinfo.
bool isCleanAuthority(std::string_view authority) {
  if (authority.empty() || authority.size() > 255 + 6) return false;
  for (unsigned char c : authority) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool equalsLower(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<uint64_t> parseLength(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

// What a regular field's name means to the conversion; by length first, since most names
// are none of these.
enum class FieldKind : uint8_t { kRegular, kConnectionSpecific, kTe, kHost, kContentLength, kCookie };

FieldKind classify(std::string_view name) {
  switch (name.size()) {
    case 2: return name == "te" ? FieldKind::kTe : FieldKind::kRegular;
    case 4: return name == "host" ? FieldKind::kHost : FieldKind::kRegular;
    case 6: return name == "cookie" ? FieldKind::kCookie : FieldKind::kRegular;
    case 7: return name == "upgrade" ? FieldKind::kConnectionSpecific : FieldKind::kRegular;
    case 10:
      return name == "connection" || name == "keep-alive" ? FieldKind::kConnectionSpecific
                                                          : FieldKind::kRegular;
    case 14: return name == "content-length" ? FieldKind::kContentLength : FieldKind::kRegular;
    case 16: return name == "proxy-connection" ? FieldKind::kConnectionSpecific : FieldKind::kRegular;
    case 17: return name == "transfer-encoding" ? FieldKind::kConnectionSpecific : FieldKind::kRegular;
    default: return FieldKind::kRegular;
  }
}

char* put(char* at, std::string_view text) {
  std::memcpy(at, text.data(), text.size());
  return at + text.size();
}

}  // namespace

const char* downgradeErrorName(DowngradeError error) {
  switch (error) {
    case DowngradeError::kNone: return "none";
    case DowngradeError::kPseudoHeader: return "pseudo_header";
    case DowngradeError::kBadMethod: return "method";
    case DowngradeError::kBadPath: return "path";
    case DowngradeError::kBadScheme: return "scheme";
    case DowngradeError::kBadAuthority: return "authority";
    case DowngradeError::kBadFieldName: return "field_name";
    case DowngradeError::kBadFieldValue: return "field_value";
    case DowngradeError::kConnectionSpecific: return "connection_specific";
    case DowngradeError::kBadContentLength: return "content_length";
    case DowngradeError::kCount: break;
  }
  return "unknown";
}

DowngradeError convertRequest(std::span<const HeaderField> fields,
                              std::optional<uint64_t> body_length, ConvertedRequest& out,
                              bool body_follows) {
  const std::string* method = nullptr;
  const std::string* scheme = nullptr;
  const std::string* path = nullptr;
  const std::string* authority = nullptr;
  const std::string* host = nullptr;
  const std::string* content_length = nullptr;
  bool regular_seen = false;
  for (const HeaderField& field : fields) {
    if (!field.name.empty() && field.name.front() == ':') {
      if (regular_seen) return DowngradeError::kPseudoHeader;
      const std::string** slot = nullptr;
      if (field.name == ":method") slot = &method;
      else if (field.name == ":scheme") slot = &scheme;
      else if (field.name == ":path") slot = &path;
      else if (field.name == ":authority") slot = &authority;
      else return DowngradeError::kPseudoHeader;
      if (*slot != nullptr) return DowngradeError::kPseudoHeader;
      *slot = &field.value;
      continue;
    }
    regular_seen = true;
    if (!isLowerToken(field.name)) return DowngradeError::kBadFieldName;
    if (!isCleanValue(field.value)) return DowngradeError::kBadFieldValue;
    switch (classify(field.name)) {
      case FieldKind::kConnectionSpecific:
        return DowngradeError::kConnectionSpecific;
      case FieldKind::kTe:
        if (!equalsLower(field.value, "trailers")) return DowngradeError::kConnectionSpecific;
        break;
      case FieldKind::kHost:
        if (host != nullptr) return DowngradeError::kBadAuthority;
        host = &field.value;
        break;
      case FieldKind::kContentLength:
        if (content_length != nullptr && *content_length != field.value) {
          return DowngradeError::kBadContentLength;
        }
        content_length = &field.value;
        break;
      default:
        break;
    }
  }
  if (method == nullptr || scheme == nullptr || path == nullptr) return DowngradeError::kPseudoHeader;
  if (!isUpperToken(*method)) return DowngradeError::kBadMethod;
  if (*method == "CONNECT") return DowngradeError::kBadMethod;  // no tunnels through the cache
  if (*scheme != "https" && *scheme != "http") return DowngradeError::kBadScheme;
  if (!isCleanPath(*path, *method == "OPTIONS")) return DowngradeError::kBadPath;
  if (authority != nullptr) {
    if (!isCleanAuthority(*authority)) return DowngradeError::kBadAuthority;
    if (host != nullptr && !equalsLower(*host, *authority)) return DowngradeError::kBadAuthority;
  } else if (host != nullptr) {
    if (!isCleanAuthority(*host)) return DowngradeError::kBadAuthority;
  }
  std::optional<uint64_t> declared;
  if (content_length != nullptr) {
    declared = parseLength(*content_length);
    if (!declared) return DowngradeError::kBadContentLength;
    if (body_length && *body_length != *declared) return DowngradeError::kBadContentLength;
  }
  std::optional<uint64_t> length = body_length ? body_length : declared;
  out.has_body = length ? *length > 0 : body_follows;
  // A GET or HEAD without content and without a content-length of its own goes on without
  // one, as the same request over HTTP/1.1 does (RFC 9110 §8.6: no Content-Length when the
  // method anticipates no content).
  if (length && *length == 0 && content_length == nullptr && (*method == "GET" || *method == "HEAD")) {
    length.reset();
  }

  out.method = *method;
  // The head's size first, then one pass that writes it: no reallocation and no append
  // bookkeeping per piece.
  const std::string_view host_value =
      authority != nullptr ? std::string_view(*authority)
                           : (host != nullptr ? std::string_view(*host) : std::string_view());
  char digits[24];
  size_t digit_count = 0;
  if (length) digit_count = static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, *length).ptr - digits);
  static constexpr std::string_view kVersionHost = " HTTP/1.1\r\nHost: ";
  static constexpr std::string_view kCookie = "cookie: ";
  static constexpr std::string_view kLength = "Content-Length: ";
  static constexpr std::string_view kChunked = "Transfer-Encoding: chunked\r\n";
  size_t total = method->size() + 1 + path->size() + kVersionHost.size() + host_value.size() + 2;
  size_t cookies = 0;
  for (const HeaderField& field : fields) {
    if (field.name.front() == ':') continue;
    switch (classify(field.name)) {
      case FieldKind::kHost:
      case FieldKind::kContentLength:
      case FieldKind::kTe:
        break;
      case FieldKind::kCookie:
        // RFC 9113 §8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
        total += (cookies++ == 0 ? kCookie.size() + 2 : 2) + field.value.size();
        break;
      default:
        total += field.name.size() + 2 + field.value.size() + 2;
        break;
    }
  }
  if (length) total += kLength.size() + digit_count + 2;
  else if (body_follows) total += kChunked.size();
  total += 2;

  std::string& head = out.head;
  head.resize(total);
  char* at = head.data();
  at = put(at, *method);
  *at++ = ' ';
  at = put(at, *path);
  at = put(at, kVersionHost);
  at = put(at, host_value);
  at = put(at, "\r\n");
  bool cookie_done = false;
  for (const HeaderField& field : fields) {
    if (field.name.front() == ':') continue;
    const FieldKind kind = classify(field.name);
    if (kind == FieldKind::kHost || kind == FieldKind::kContentLength || kind == FieldKind::kTe) continue;
    if (kind == FieldKind::kCookie) {
      if (cookie_done) continue;
      cookie_done = true;
      at = put(at, kCookie);
      bool first = true;
      for (const HeaderField& c : fields) {
        if (c.name.size() != 6 || c.name != "cookie") continue;
        if (!first) at = put(at, "; ");
        at = put(at, c.value);
        first = false;
      }
      at = put(at, "\r\n");
      continue;
    }
    at = put(at, field.name);
    at = put(at, ": ");
    at = put(at, field.value);
    at = put(at, "\r\n");
  }
  if (length) {
    at = put(at, kLength);
    at = put(at, std::string_view(digits, digit_count));
    at = put(at, "\r\n");
  } else if (body_follows) {
    at = put(at, kChunked);
  }
  at = put(at, "\r\n");
  return DowngradeError::kNone;
}

}  // namespace ec::h2
