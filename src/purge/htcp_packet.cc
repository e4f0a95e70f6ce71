#include "purge/htcp_packet.h"

namespace ec::purge {
namespace {

uint16_t read16(std::string_view bytes, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(bytes[at]) << 8) | static_cast<uint8_t>(bytes[at + 1]));
}

uint32_t read32(std::string_view bytes, size_t at) {
  return (uint32_t{read16(bytes, at)} << 16) | read16(bytes, at + 2);
}

void put16(std::string& out, size_t value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

// A COUNTSTR (2-byte length, then the bytes) at `*at`, within [.., end).
bool readCountStr(std::string_view packet, size_t* at, size_t end, std::string_view* out) {
  if (*at + 2 > end) return false;
  const size_t length = read16(packet, *at);
  *at += 2;
  if (*at + length > end) return false;
  *out = packet.substr(*at, length);
  *at += length;
  return true;
}

HtcpDecodeResult refuse(HtcpError error) {
  HtcpDecodeResult result;
  result.error = error;
  return result;
}

// RR (response) in RFC 2756's bit order is the second-highest bit of the flags byte; in
// Squid's swapped order, the second-lowest. Either set means this is not a request.
constexpr uint8_t kResponseFlags = 0x40 | 0x02;

}  // namespace

const char* htcpErrorName(HtcpError error) {
  switch (error) {
    case HtcpError::kTooShort: return "too_short";
    case HtcpError::kLengthMismatch: return "length_mismatch";
    case HtcpError::kBadVersion: return "bad_version";
    case HtcpError::kBadDataLength: return "bad_data_length";
    case HtcpError::kNotClr: return "not_clr";
    case HtcpError::kBadField: return "bad_field";
    case HtcpError::kBadAuth: return "bad_auth";
    case HtcpError::kEmptyUri: return "empty_uri";
  }
  return "unknown";
}

HtcpDecodeResult decodeHtcpClr(std::string_view packet) {
  if (packet.size() < kHtcpMinClrPacket) return refuse(HtcpError::kTooShort);
  if (read16(packet, 0) != packet.size()) return refuse(HtcpError::kLengthMismatch);
  if (static_cast<uint8_t>(packet[2]) != 0) return refuse(HtcpError::kBadVersion);
  const size_t data_length = read16(packet, 4);  // counts from offset 4, its own 2 bytes included
  const size_t data_end = 4 + data_length;
  if (data_length < 8 + 2 + 8 || data_end + 2 > packet.size()) {
    return refuse(HtcpError::kBadDataLength);
  }
  if (static_cast<uint8_t>(packet[6]) != kHtcpOpClr ||
      (static_cast<uint8_t>(packet[7]) & kResponseFlags) != 0) {
    return refuse(HtcpError::kNotClr);
  }
  HtcpDecodeResult result;
  result.clr.transaction_id = read32(packet, 8);
  result.clr.reason = static_cast<uint8_t>(packet[13]) & 0x0f;
  size_t at = 14;
  if (!readCountStr(packet, &at, data_end, &result.clr.method) ||
      !readCountStr(packet, &at, data_end, &result.clr.uri) ||
      !readCountStr(packet, &at, data_end, &result.clr.version) ||
      !readCountStr(packet, &at, data_end, &result.clr.headers) || at != data_end) {
    return refuse(HtcpError::kBadField);
  }
  // AUTH: its length counts its own 2 bytes; MediaWiki sends 2 (no signature). A signed AUTH
  // is accepted and ignored (the source ACL is what guards HTCP here).
  if (read16(packet, data_end) != packet.size() - data_end) return refuse(HtcpError::kBadAuth);
  if (result.clr.uri.empty()) return refuse(HtcpError::kEmptyUri);
  result.ok = true;
  return result;
}

std::string encodeHtcpClr(uint32_t transaction_id, std::string_view uri, std::string_view method) {
  constexpr std::string_view kVersion = "HTTP/1.0";
  const size_t specifier = 2 + method.size() + 2 + uri.size() + 2 + kVersion.size() + 2;
  const size_t data_length = 8 + 2 + specifier;
  std::string out;
  out.reserve(4 + data_length + 2);
  put16(out, 4 + data_length + 2);
  out.push_back(0);  // major
  out.push_back(0);  // minor
  put16(out, data_length);
  out.push_back(static_cast<char>(kHtcpOpClr));  // Squid's order: the whole byte
  out.push_back(0);                               // flags: no response wanted
  put16(out, transaction_id >> 16);
  put16(out, transaction_id & 0xffff);
  put16(out, 0);  // CLR reserved + reason
  put16(out, method.size());
  out.append(method);
  put16(out, uri.size());
  out.append(uri);
  put16(out, kVersion.size());
  out.append(kVersion);
  put16(out, 0);  // no request headers
  put16(out, 2);  // empty AUTH
  return out;
}

}  // namespace ec::purge
