#pragma once
// HTCP CLR packets (RFC 2756 §3, §3.7), decoded exactly as MediaWiki's CdnCacheUpdate writes
// them (wikimedia-traffic.md §1.2), and encoded the same way for tests, benches and fuzz
// seeds. Transport-free: bytes in, a decoded CLR or a precise error out.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ec::purge {

inline constexpr uint8_t kHtcpOpClr = 4;
// Fixed bytes: total length 2, version 2, data length 2, opcode 1, flags 1, transaction id 4,
// CLR reserved+reason 2, four 2-byte lengths (method, URI, version, request headers), AUTH 2.
inline constexpr size_t kHtcpMinClrPacket = 24;

struct HtcpClr {
  uint32_t transaction_id = 0;
  uint8_t reason = 0;          // RFC 2756 §3.7 REASON (low 4 bits); MediaWiki sends 0
  std::string_view method;     // "HEAD" from MediaWiki
  std::string_view uri;        // the absolute URL to purge
  std::string_view version;    // "HTTP/1.0"
  std::string_view headers;    // request headers (MediaWiki sends none)
};

// Why a packet was refused; the listener counts kNotClr apart from the malformed ones.
enum class HtcpError : uint8_t {
  kTooShort,         // under kHtcpMinClrPacket bytes
  kLengthMismatch,   // total length field differs from the datagram size
  kBadVersion,       // major version not 0
  kBadDataLength,    // DATA length too small or past the end
  kNotClr,           // opcode other than CLR (4), or a response
  kBadField,         // a COUNTSTR running past the DATA section
  kBadAuth,          // AUTH length not matching what is left
  kEmptyUri,
};
const char* htcpErrorName(HtcpError error);

// Decodes one datagram. Views point into `packet`. Accepts the Squid byte order MediaWiki
// uses (opcode 4 in the whole byte 6, RESPONSE nibble 0); a set RR flag (a response) is
// refused as kNotClr.
struct HtcpDecodeResult {
  bool ok = false;
  HtcpError error = HtcpError::kTooShort;
  HtcpClr clr;
};
HtcpDecodeResult decodeHtcpClr(std::string_view packet);

// The packet MediaWiki sends for `uri` (method HEAD, version HTTP/1.0, no headers, empty AUTH).
std::string encodeHtcpClr(uint32_t transaction_id, std::string_view uri,
                          std::string_view method = "HEAD");

}  // namespace ec::purge
