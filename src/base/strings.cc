#include "base/strings.h"

#include <limits>

namespace ec {

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && equalsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

void toLowerInPlace(std::string& text) {
  for (char& c : text) c = asciiLower(c);
}

std::string toLower(std::string_view text) {
  std::string out(text);
  toLowerInPlace(out);
  return out;
}

std::string_view trimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<uint64_t> parseDecimal(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (!isDigit(c)) return std::nullopt;
    // Overflow checked by the multiply and add themselves: no division per digit.
    if (__builtin_mul_overflow(value, uint64_t{10}, &value) ||
        __builtin_add_overflow(value, static_cast<uint64_t>(c - '0'), &value)) {
      return std::nullopt;
    }
  }
  return value;
}

namespace {
// Splits "256MiB" into the number and the unit.
std::pair<std::string_view, std::string_view> splitNumberUnit(std::string_view text) {
  text = trimOws(text);
  size_t i = 0;
  while (i < text.size() && isDigit(text[i])) ++i;
  return {text.substr(0, i), trimOws(text.substr(i))};
}

std::optional<uint64_t> multiply(uint64_t value, uint64_t factor) {
  if (factor != 0 && value > std::numeric_limits<uint64_t>::max() / factor) return std::nullopt;
  return value * factor;
}
}  // namespace

std::optional<uint64_t> parseByteSize(std::string_view text) {
  auto [number, unit] = splitNumberUnit(text);
  auto value = parseDecimal(number);
  if (!value) return std::nullopt;
  const std::string u = toLower(unit);
  uint64_t factor = 0;
  if (u.empty() || u == "b") factor = 1;
  else if (u == "k" || u == "kb" || u == "kib") factor = 1ull << 10;
  else if (u == "m" || u == "mb" || u == "mib") factor = 1ull << 20;
  else if (u == "g" || u == "gb" || u == "gib") factor = 1ull << 30;
  else if (u == "t" || u == "tb" || u == "tib") factor = 1ull << 40;
  else return std::nullopt;
  return multiply(*value, factor);
}

std::optional<uint64_t> parseDurationMillis(std::string_view text) {
  auto [number, unit] = splitNumberUnit(text);
  auto value = parseDecimal(number);
  if (!value) return std::nullopt;
  uint64_t factor = 0;
  if (unit.empty() || unit == "s") factor = 1000;
  else if (unit == "ms") factor = 1;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else return std::nullopt;
  return multiply(*value, factor);
}

}  // namespace ec
