#include "h2/request_conversion.h"

#include <array>
#include <charconv>
#include <cstring>

#include "http/head_scanner.h"
#include "http/request_parser.h"
#include "http/syntax.h"

namespace ec::h2 {
namespace {

// Byte classes for the checks run on every byte of every request field: one load per byte.
enum : uint8_t { kLowerTokenByte = 1, kTokenByte = 2, kAuthorityByte = 4 };
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    uint8_t bits = 0;
    if (http::detail::kTokenTable[static_cast<size_t>(c)]) {
      bits |= kTokenByte;
      if (c < 'A' || c > 'Z') bits |= kLowerTokenByte;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == ':' || c == '[' || c == ']' || c == '_') {
      bits |= kAuthorityByte;
    }
    table[static_cast<size_t>(c)] = bits;
  }
  return table;
}();

// True when `text` is not empty and every byte has `bit`.
bool allBytes(std::string_view text, uint8_t bit) {
  if (text.empty()) return false;
  const auto* at = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = at + text.size();
  for (; at != end; ++at) {
    if ((kByteClass[*at] & bit) == 0) return false;
  }
  return true;
}

bool isLowerToken(std::string_view name) { return allBytes(name, kLowerTokenByte); }

bool isUpperToken(std::string_view method) { return allBytes(method, kTokenByte); }

// RFC 9113 §8.2.1: no NUL, CR, LF; no leading or trailing SP/HTAB. Other controls and DEL are
// refused too (an HTTP/1.1 origin would choke on them).
bool isCleanValue(std::string_view value) {
  if (value.empty()) return true;
  if (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' || value.back() == '\t') {
    return false;
  }
  return !http::hasControlBytes(value);
}

template <size_t N>
bool is(std::string_view text, const char (&literal)[N]) {
  return text.size() == N - 1 && std::memcmp(text.data(), literal, N - 1) == 0;
}

// origin-form: "/" then visible ASCII without '#'; or exactly "*".
bool isCleanPath(std::string_view path, bool options) {
  if (is(path, "*")) return options;
  if (path.empty() || path.front() != '/') return false;
  return !http::hasNonTargetBytes(path);
}

// reg-name or IPv4 or [IPv6], optional :port; no userinfo.
bool isCleanAuthority(std::string_view authority) {
  if (authority.size() > 255 + 6) return false;
  return allBytes(authority, kAuthorityByte);
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

// The regular fields and cookies both forwarding passes size their output from (host,
// content-length and te are rewritten, pseudo-headers become the request line).
struct FieldTally {
  size_t regular = 0;        // fields forwarded as they are
  size_t regular_bytes = 0;  // their names and values
  size_t cookies = 0;        // cookie fields, joined into one
  size_t cookie_bytes = 0;   // their values
};

FieldTally tallyFields(std::span<const HeaderField> fields) {
  FieldTally tally;
  for (const HeaderField& field : fields) {
    if (field.name.front() == ':') continue;
    switch (classify(field.name)) {
      case FieldKind::kHost:
      case FieldKind::kContentLength:
      case FieldKind::kTe:
        break;
      case FieldKind::kCookie:
        ++tally.cookies;
        tally.cookie_bytes += field.value.size();
        break;
      default:
        ++tally.regular;
        tally.regular_bytes += field.name.size() + field.value.size();
        break;
    }
  }
  return tally;
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

namespace {

// What the checks of both paths found: the pseudo-headers, the host and the length to say.
struct Plan {
  std::string_view method;
  std::string_view path;
  std::string_view host_value;  // :authority, else host, else empty
  std::optional<uint64_t> length;  // the Content-Length to write, if any
  bool chunked = false;            // Transfer-Encoding: chunked instead (length unknown)
  bool has_body = false;
};

// RFC 9113 §8.2-8.3 and http-hardening.md §F 24-26: everything convertRequest() refuses.
DowngradeError check(std::span<const HeaderField> fields, std::optional<uint64_t> body_length,
                     bool body_follows, Plan& plan) {
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
      const std::string_view name = field.name;
      const std::string** slot = nullptr;
      if (is(name, ":method")) slot = &method;
      else if (is(name, ":scheme")) slot = &scheme;
      else if (is(name, ":path")) slot = &path;
      else if (is(name, ":authority")) slot = &authority;
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
  if (is(*method, "CONNECT")) return DowngradeError::kBadMethod;  // no tunnels through the cache
  if (!is(*scheme, "https") && !is(*scheme, "http")) return DowngradeError::kBadScheme;
  if (!isCleanPath(*path, is(*method, "OPTIONS"))) return DowngradeError::kBadPath;
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
  plan.has_body = length ? *length > 0 : body_follows;
  // A GET or HEAD without content and without a content-length of its own goes on without
  // one, as the same request over HTTP/1.1 does (RFC 9110 §8.6: no Content-Length when the
  // method anticipates no content).
  if (length && *length == 0 && content_length == nullptr && (is(*method, "GET") || is(*method, "HEAD"))) {
    length.reset();
  }
  plan.length = length;
  plan.chunked = !length && body_follows;
  plan.method = *method;
  plan.path = *path;
  plan.host_value = authority != nullptr ? std::string_view(*authority)
                                         : (host != nullptr ? std::string_view(*host) : std::string_view(""));
  return DowngradeError::kNone;
}

size_t writeDigits(char (&digits)[24], const std::optional<uint64_t>& length) {
  if (!length) return 0;
  return static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, *length).ptr - digits);
}

constexpr std::string_view kHostName = "Host";
constexpr std::string_view kCookieName = "cookie";
constexpr std::string_view kLengthName = "Content-Length";
constexpr std::string_view kCodingName = "Transfer-Encoding";
constexpr std::string_view kChunked = "chunked";
constexpr size_t kVersionBytes = 9;  // " HTTP/1.1" after the target

bool isCookie(std::string_view name) { return name.size() == 6 && name == kCookieName; }

}  // namespace

DowngradeError convertRequest(std::span<const HeaderField> fields,
                              std::optional<uint64_t> body_length, ConvertedRequest& out,
                              bool body_follows) {
  Plan plan;
  if (const DowngradeError error = check(fields, body_length, body_follows, plan);
      error != DowngradeError::kNone) {
    return error;
  }
  out.has_body = plan.has_body;
  out.method = plan.method;
  // The head's size first, then one pass that writes it: no reallocation and no append
  // bookkeeping per piece.
  char digits[24];
  const size_t digit_count = writeDigits(digits, plan.length);
  static constexpr std::string_view kVersionHost = " HTTP/1.1\r\nHost: ";
  static constexpr std::string_view kCookie = "cookie: ";
  static constexpr std::string_view kLength = "Content-Length: ";
  static constexpr std::string_view kChunkedLine = "Transfer-Encoding: chunked\r\n";
  size_t total = plan.method.size() + 1 + plan.path.size() + kVersionHost.size() + plan.host_value.size() + 2;
  const FieldTally tally = tallyFields(fields);
  total += tally.regular_bytes + 4 * tally.regular;  // ": " and CRLF per line
  // RFC 9113 §8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
  if (tally.cookies > 0) total += kCookie.size() + tally.cookie_bytes + 2 * (tally.cookies - 1) + 2;
  if (plan.length) total += kLength.size() + digit_count + 2;
  else if (plan.chunked) total += kChunkedLine.size();
  total += 2;

  std::string& head = out.head;
  head.resize(total);
  char* at = head.data();
  at = put(at, plan.method);
  *at++ = ' ';
  at = put(at, plan.path);
  at = put(at, kVersionHost);
  at = put(at, plan.host_value);
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
        if (!isCookie(c.name)) continue;
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
  if (plan.length) {
    at = put(at, kLength);
    at = put(at, std::string_view(digits, digit_count));
    at = put(at, "\r\n");
  } else if (plan.chunked) {
    at = put(at, kChunkedLine);
  }
  at = put(at, "\r\n");
  return DowngradeError::kNone;
}

DowngradeError buildRequestHead(std::span<const HeaderField> fields,
                                std::optional<uint64_t> body_length, bool body_follows,
                                const http::ParseLimits& limits, std::string& storage,
                                http::RequestHead& head, http::ParseError& parse_error) {
  Plan plan;
  if (const DowngradeError error = check(fields, body_length, body_follows, plan);
      error != DowngradeError::kNone) {
    return error;
  }
  parse_error = {};
  head.clear();
  char digits[24];
  const size_t digit_count = writeDigits(digits, plan.length);

  // The bytes the head's views need, copied once into `storage` (sized first: the views stay
  // put); the fixed names are literals.
  const FieldTally tally = tallyFields(fields);
  const size_t regular = tally.regular;
  // Cookie values joined with "; " (counted once per value: at most what is needed).
  const size_t total = plan.method.size() + plan.path.size() + plan.host_value.size() +
                       digit_count + tally.regular_bytes + tally.cookie_bytes + 2 * tally.cookies;
  storage.resize(total);
  char* at = storage.data();
  const auto keep = [&at](std::string_view text) {
    std::memcpy(at, text.data(), text.size());
    const std::string_view kept(at, text.size());
    at += text.size();
    return kept;
  };

  // What the strict parser would decide on the text convertRequest() writes, line by line in
  // the same order: the size limits first (414, 431), then the request line, then Host,
  // framing, Expect (http::deriveRequestSemantics).
  http::HeadLimits lines(limits, {limits.max_request_line, http::ParseErrorKind::kUriTooLong,
                                  http::ParseErrorKind::kBadRequestLine, true});
  const auto refuse = [&parse_error, &lines] {
    parse_error = lines.error();
    return DowngradeError::kNone;
  };
  head.method_text = keep(plan.method);
  head.method = http::methodFromToken(head.method_text);
  head.target = keep(plan.path);
  head.version = http::Version::kHttp11;
  head.target_form = head.target == "*" ? http::TargetForm::kAsterisk : http::TargetForm::kOrigin;
  head.path = head.target;
  if (!lines.startLine(plan.method.size() + 1 + plan.path.size() + kVersionBytes)) return refuse();
  head.fields.reserve(regular + 3);
  head.fields.add(kHostName, keep(plan.host_value));
  if (!lines.fieldLine(kHostName.size() + 2 + plan.host_value.size())) return refuse();
  bool cookie_done = false;
  for (const HeaderField& field : fields) {
    if (field.name.front() == ':') continue;
    const FieldKind kind = classify(field.name);
    if (kind == FieldKind::kHost || kind == FieldKind::kContentLength || kind == FieldKind::kTe) continue;
    if (kind == FieldKind::kCookie) {
      if (cookie_done) continue;
      cookie_done = true;
      const char* const begin = at;
      bool first = true;
      for (const HeaderField& c : fields) {
        if (!isCookie(c.name)) continue;
        if (!first) keep("; ");
        keep(c.value);
        first = false;
      }
      // The parser drops the line's trailing whitespace: "a; " when the last value is empty.
      std::string_view joined(begin, static_cast<size_t>(at - begin));
      const size_t line = kCookieName.size() + 2 + joined.size();
      while (!joined.empty() && (joined.back() == ' ' || joined.back() == '\t')) joined.remove_suffix(1);
      head.fields.add(kCookieName, joined);
      if (!lines.fieldLine(line)) return refuse();
      continue;
    }
    head.fields.add(keep(field.name), keep(field.value));
    if (!lines.fieldLine(field.name.size() + 2 + field.value.size())) return refuse();
  }
  if (plan.length) {
    head.fields.add(kLengthName, keep(std::string_view(digits, digit_count)));
    if (!lines.fieldLine(kLengthName.size() + 2 + digit_count)) return refuse();
  } else if (plan.chunked) {
    head.fields.add(kCodingName, kChunked);
    if (!lines.fieldLine(kCodingName.size() + 2 + kChunked.size())) return refuse();
  }
  if (!lines.end()) return refuse();
  if (head.method == http::Method::kConnect) {  // refused above already; as the parser does
    parse_error = {http::ParseErrorKind::kUnsupportedMethod, "CONNECT: not a forward proxy"};
    return DowngradeError::kNone;
  }
  parse_error = http::deriveRequestSemantics(head, limits);
  return DowngradeError::kNone;
}

void appendRequestText(const http::RequestHead& head, std::string& out) {
  size_t total = head.method_text.size() + 1 + head.target.size() + kVersionBytes + 2 + 2;
  for (const http::Field& field : head.fields.all()) total += field.name.size() + 2 + field.value.size() + 2;
  const size_t begin = out.size();
  out.resize(begin + total);
  char* at = out.data() + begin;
  at = put(at, head.method_text);
  *at++ = ' ';
  at = put(at, head.target);
  at = put(at, " HTTP/1.1\r\n");
  for (const http::Field& field : head.fields.all()) {
    at = put(at, field.name);
    at = put(at, ": ");
    at = put(at, field.value);
    at = put(at, "\r\n");
  }
  put(at, "\r\n");
}

}  // namespace ec::h2
