#pragma once
// Syntax helpers of RFC 9110/9112 shared by the request and response parsers: byte classes,
// Host validation, and the strict readings of the two framing fields (Content-Length and
// Transfer-Encoding). Everything here is pure and locale-free.

#include <array>
#include <cstdint>
#include <string_view>

#include "http/fields.h"
#include "http/parse_error.h"

namespace ec::http {

namespace detail {
constexpr std::array<bool, 256> makeTokenTable() {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) table[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) table[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
  return table;
}
inline constexpr std::array<bool, 256> kTokenTable = makeTokenTable();
}  // namespace detail

// tchar (RFC 9110 §5.6.2): the bytes of a token such as a method or a field name. Inline: the
// parsers call it for every byte of every field name.
inline bool isTokenChar(unsigned char c) { return detail::kTokenTable[c]; }
bool isToken(std::string_view text);
// A byte allowed in a field value: HTAB, SP, VCHAR or obs-text. CR, LF, NUL and other
// controls are not.
inline bool isFieldValueByte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }
// A byte allowed in a request-target: visible ASCII except '#' (a fragment is never sent).
inline bool isTargetByte(unsigned char c) { return c > 0x20 && c < 0x7f && c != '#'; }
// True when `text` holds a byte no field line may hold outside a value's HTAB: a control (CR
// and LF included), or DEL. Sixteen bytes per step: a clean line, the normal case, is checked
// without a branch per byte (the head scanner; the HTTP/2 downgrade's value check).
bool hasControlBytes(std::string_view text);
// True when some byte of `text` is not isTargetByte(), sixteen bytes per step.
bool hasNonTargetBytes(std::string_view text);

// uri-host [ ":" port ], strictly: a DNS-style reg-name (ALPHA DIGIT - . _ ~), an IPv4
// address, or a bracketed IPv6 literal; port is 1-5 digits up to 65535. Rejects empty
// values, lists ("a, b"), userinfo ("a@b") and "a:80:80".
bool isValidAuthority(std::string_view authority);

// Content-Length over every line of the field (RFC 9112 §6.3 items 5-6).
struct ContentLength {
  enum class State : uint8_t { kAbsent, kValid, kInvalid, kConflicting };
  State state = State::kAbsent;
  uint64_t value = 0;
};
// Each line may be a list; every element must be 1*DIGIT without overflow ("0005" is 5), and
// all elements must be equal ("5, 5" is 5; "5, 6" conflicts).
ContentLength readContentLength(const Fields& fields);

// Transfer-Encoding over every line of the field (RFC 9112 §6.1, §7).
enum class TransferCoding : uint8_t {
  kAbsent,
  kChunked,        // exactly one coding, "chunked" (any case, optional parameters refused)
  kMalformed,      // an element that is not a token, an empty value, chunked not final or twice
  kUnknownCoding,  // a coding we have never heard of: "cow", "xchunked" (501)
  kUnsupported,    // a registered coding before chunked ("gzip, chunked"): we cannot re-frame it
};
TransferCoding readTransferCoding(const Fields& fields);

}  // namespace ec::http
