#include "h2/request_conversion.h"

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
    const std::string& name = field.name;
    if (name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
        name == "transfer-encoding" || name == "upgrade") {
      return DowngradeError::kConnectionSpecific;
    }
    if (name == "te" && !equalsLower(field.value, "trailers")) return DowngradeError::kConnectionSpecific;
    if (name == "host") {
      if (host != nullptr) return DowngradeError::kBadAuthority;
      host = &field.value;
    }
    if (name == "content-length") {
      if (content_length != nullptr && *content_length != field.value) return DowngradeError::kBadContentLength;
      content_length = &field.value;
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
  const std::optional<uint64_t> length = body_length ? body_length : declared;

  out.method = *method;
  out.has_body = length ? *length > 0 : body_follows;
  std::string& head = out.head;
  head.clear();
  head.reserve(256);
  head += *method;
  head += ' ';
  head += *path;
  head += " HTTP/1.1\r\nHost: ";
  head += authority != nullptr ? *authority : (host != nullptr ? *host : std::string());
  head += "\r\n";
  // RFC 9113 §8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
  bool cookie_done = false;
  for (const HeaderField& field : fields) {
    const std::string& name = field.name;
    if (name.front() == ':' || name == "host" || name == "content-length" || name == "te") continue;
    if (name == "cookie") {
      if (cookie_done) continue;
      cookie_done = true;
      head += "cookie: ";
      bool first = true;
      for (const HeaderField& c : fields) {
        if (c.name != "cookie") continue;
        if (!first) head += "; ";
        head += c.value;
        first = false;
      }
      head += "\r\n";
      continue;
    }
    head += name;
    head += ": ";
    head += field.value;
    head += "\r\n";
  }
  if (length) {
    head += "Content-Length: ";
    head += std::to_string(*length);
    head += "\r\n";
  } else if (body_follows) {
    head += "Transfer-Encoding: chunked\r\n";
  }
  head += "\r\n";
  return DowngradeError::kNone;
}

}  // namespace ec::h2
