#pragma once
// HTTP/2 request -> canonical HTTP/1.1 request head (RFC 9113 §8.2-8.3, http-hardening.md §F
// 24-26). The converted head is what the rest of the proxy sees, so every ambiguity an HTTP/2
// header list can carry past an HTTP/1.1 parser is refused here: CR, LF, NUL or edge
// whitespace in values, uppercase or non-token names, connection-specific fields, `te` other
// than `trailers`, missing, repeated, unknown or late pseudo-headers, a `:path` that is not
// origin-form (or `*` for OPTIONS), `:authority` disagreeing with `host`, spaces in `:method`.
// convertRequest() writes the head as text; buildRequestHead(), what the proxy uses, builds the
// same RequestHead without the text (docs/design/h2-hit-path.md), and convertRequest() stays
// as its reference in the differential tests. Transport-free and allocation-bounded; fuzzed by
// tests/fuzz/h2_conversion_fuzz.cc.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"
#include "http/parse_error.h"
#include "http/parse_limits.h"

namespace ec::h2 {

struct HeaderField {
  std::string name;
  std::string value;
};

enum class DowngradeError : uint8_t {
  kNone,
  kPseudoHeader,        // missing, repeated, unknown or after a regular field
  kBadMethod,
  kBadPath,
  kBadScheme,
  kBadAuthority,        // not a host[:port], or conflicts with host
  kBadFieldName,        // uppercase, empty or non-token
  kBadFieldValue,       // CR, LF, NUL, other controls, or leading/trailing whitespace
  kConnectionSpecific,  // connection, keep-alive, proxy-connection, transfer-encoding, upgrade, te
  kBadContentLength,
  kCount
};
const char* downgradeErrorName(DowngradeError error);

struct ConvertedRequest {
  std::string head;  // "GET /p HTTP/1.1\r\nHost: a\r\n...\r\n\r\n"
  std::string method;
  bool has_body = false;
};

// `body_length`: the DATA total when the stream already ended (nullopt while unknown; then a
// content-length, if present, is used). `body_follows`: with the length unknown, the body
// streams as it arrives, so the head says `Transfer-Encoding: chunked` (HTTP/2 trailers are
// not forwarded). Returns DowngradeError::kNone on success.
DowngradeError convertRequest(std::span<const HeaderField> fields,
                              std::optional<uint64_t> body_length, ConvertedRequest& out,
                              bool body_follows = false);

// The request path's conversion (H2Stream::startRequest), without the text: the checks of
// convertRequest() and then, on the head it would write, everything the strict HTTP/1.1 parser
// decides (size limits -> 414/431, Host, framing and the body limit, Expect: see
// docs/design/h2-hit-path.md for the table), building the RequestHead that parse would.
// `head` holds views into `storage` (resized, its capacity kept by the caller) and into string
// literals. A DowngradeError comes first (the stream is reset); with kNone, a `parse_error`
// whose kind is not kNone is the parser's refusal (statusForParseError). Differentially tested
// against convertRequest() + RequestParser (unit test and tests/fuzz/h2_conversion_fuzz.cc).
DowngradeError buildRequestHead(std::span<const HeaderField> fields,
                                std::optional<uint64_t> body_length, bool body_follows,
                                const http::ParseLimits& limits, std::string& storage,
                                http::RequestHead& head, http::ParseError& parse_error);

// Appends the HTTP/1.1 text of an origin-form request head ("GET /p HTTP/1.1", its field lines,
// the blank line): for a head from buildRequestHead() the text convertRequest() writes (up to
// the whitespace the parser trims), and parsed it gives the same head. Written only when an
// origin fetch needs it (a miss), not per hit.
void appendRequestText(const http::RequestHead& head, std::string& out);

}  // namespace ec::h2
