#include "http/syntax.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>

#include "base/strings.h"

namespace ec::http {
namespace {

// reg-name characters we accept (unreserved; RFC 3986 §3.2.2), as a table: every request's
// Host goes through this once per byte.
constexpr std::array<bool, 256> kRegNameChars = [] {
  std::array<bool, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  for (char c : {'-', '.', '_', '~'}) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

bool isRegNameChar(char c) { return kRegNameChars[static_cast<unsigned char>(c)]; }

bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool isValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  // Five digits at most: no overflow to check, so no parseDecimal.
  uint32_t value = 0;
  for (char c : port) {
    if (!isDigit(c)) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value <= 65535;
}

bool isValidIpv6Literal(std::string_view inside) {
  // Characters only; the proxy never routes on the literal's numeric value, it only has to be
  // unambiguous text. IPvFuture ("v1.x") is refused.
  if (inside.size() < 2 || inside.find(':') == std::string_view::npos) return false;
  for (char c : inside) {
    if (!isHexDigit(c) && c != ':' && c != '.') return false;
  }
  return true;
}

// Splits a field value on commas (no quoting: framing values are tokens), trimming OWS.
// Calls fn(element) for every element including empty ones, so callers can refuse them.
template <typename Fn>
void forEachRawElement(std::string_view value, Fn&& fn) {
  size_t start = 0;
  while (true) {
    const size_t comma = value.find(',', start);
    const size_t end = comma == std::string_view::npos ? value.size() : comma;
    fn(trimOws(value.substr(start, end - start)));
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

bool isKnownCoding(std::string_view coding) {
  // The IANA "HTTP Transfer Coding Registry" plus the legacy names RFC 9112 §7.2 keeps.
  for (std::string_view known :
       {"chunked", "compress", "deflate", "gzip", "x-compress", "x-gzip", "identity", "trailers"}) {
    if (equalsIgnoreCase(coding, known)) return true;
  }
  return false;
}

}  // namespace


bool hasControlBytes(std::string_view line) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x1f);
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i del = _mm_set1_epi8(0x7f);
  auto dirty = [&](size_t at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data() + at));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(bytes, below_space), bytes);
    const __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(bytes, tab), control),
                                     _mm_cmpeq_epi8(bytes, del));
    return _mm_movemask_epi8(bad) != 0;
  };
  if (line.size() >= 16) {
    for (; i + 16 <= line.size(); i += 16) {
      if (dirty(i)) return true;
    }
    // The last partial block as an overlapping full one.
    return i < line.size() && dirty(line.size() - 16);
  }
#endif
  for (; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

bool hasNonTargetBytes(std::string_view text) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i tilde = _mm_set1_epi8(0x7e);
  const __m128i hash = _mm_set1_epi8('#');
  auto dirty = [&](size_t at) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + at));
    // Unsigned: at most SP (min with SP is the byte) or past '~' (max with '~' is not '~').
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(bytes, space), bytes);
    const __m128i high = _mm_andnot_si128(_mm_cmpeq_epi8(_mm_max_epu8(bytes, tilde), tilde),
                                          _mm_set1_epi8(-1));
    const __m128i bad = _mm_or_si128(_mm_or_si128(low, high), _mm_cmpeq_epi8(bytes, hash));
    return _mm_movemask_epi8(bad) != 0;
  };
  if (text.size() >= 16) {
    for (; i + 16 <= text.size(); i += 16) {
      if (dirty(i)) return true;
    }
    return i < text.size() && dirty(text.size() - 16);
  }
#endif
  for (; i < text.size(); ++i) {
    if (!isTargetByte(static_cast<unsigned char>(text[i]))) return true;
  }
  return false;
}

bool isToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!isTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool isValidAuthority(std::string_view authority) {
  if (authority.empty()) return false;
  std::string_view host = authority;
  std::string_view rest;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    if (!isValidIpv6Literal(authority.substr(1, close - 1))) return false;
    host = authority.substr(0, close + 1);
    rest = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      rest = authority.substr(colon);
    }
    if (host.empty()) return false;
    for (char c : host) {
      if (!isRegNameChar(c)) return false;
    }
  }
  if (rest.empty()) return true;
  return rest.front() == ':' && isValidPort(rest.substr(1));
}

ContentLength readContentLength(const Fields& fields) {
  ContentLength result;
  for (const Field& field : fields.all()) {
    if (!equalsIgnoreCase(field.name, "content-length")) continue;
    forEachRawElement(field.value, [&](std::string_view element) {
      if (result.state == ContentLength::State::kInvalid) return;
      auto value = parseDecimal(element);
      if (!value) {
        result.state = ContentLength::State::kInvalid;
      } else if (result.state == ContentLength::State::kAbsent) {
        result = {ContentLength::State::kValid, *value};
      } else if (*value != result.value) {
        result.state = ContentLength::State::kConflicting;
      }
    });
  }
  return result;
}

TransferCoding readTransferCoding(const Fields& fields) {
  bool present = false;
  bool malformed = false;
  bool unknown = false;
  bool other_known = false;
  size_t chunked_count = 0;
  bool last_is_chunked = false;
  for (const Field& field : fields.all()) {
    if (!equalsIgnoreCase(field.name, "transfer-encoding")) continue;
    present = true;
    forEachRawElement(field.value, [&](std::string_view element) {
      // Parameters (";q=1") are legal on codings but none we accept takes any: refuse them
      // rather than guess how a peer would read them.
      if (!isToken(element)) {
        malformed = true;
        return;
      }
      last_is_chunked = equalsIgnoreCase(element, "chunked");
      if (last_is_chunked) {
        ++chunked_count;
      } else if (isKnownCoding(element)) {
        other_known = true;
      } else {
        unknown = true;
      }
    });
  }
  if (!present) return TransferCoding::kAbsent;
  if (malformed) return TransferCoding::kMalformed;
  if (unknown) return TransferCoding::kUnknownCoding;
  if (!last_is_chunked || chunked_count != 1) return TransferCoding::kMalformed;
  if (other_known) return TransferCoding::kUnsupported;
  return TransferCoding::kChunked;
}

}  // namespace ec::http
