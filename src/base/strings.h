#pragma once
// ASCII string helpers for protocol text: case-insensitive compare, OWS trimming, number
// parsing that refuses anything but plain digits. Locale-free on purpose.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

constexpr char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Inline: header lookups compare every field name of a request with it, and most differ in
// length or first byte.
inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}
bool startsWithIgnoreCase(std::string_view text, std::string_view prefix);
void toLowerInPlace(std::string& text);
std::string toLower(std::string_view text);

// Strips optional whitespace (SP / HTAB) from both ends (RFC 9110 §5.6.3).
std::string_view trimOws(std::string_view text);

// Parses 1*DIGIT into uint64; nullopt on an empty string, any non-digit, or overflow.
std::optional<uint64_t> parseDecimal(std::string_view digits);

// Parses "256MiB", "1g", "4096" (bytes). Units: B, KiB/K/KB, MiB/M/MB, GiB/G/GB, TiB/T/TB
// (all binary multiples). nullopt when malformed or overflowing.
std::optional<uint64_t> parseByteSize(std::string_view text);
// Parses "500ms", "10s", "5m", "2h", "1d", or plain seconds "30"; into milliseconds.
std::optional<uint64_t> parseDurationMillis(std::string_view text);

}  // namespace ec
