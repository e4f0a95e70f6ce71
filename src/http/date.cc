#include "http/date.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include "base/strings.h"

namespace ec::http {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Three characters, lowercased, in one integer (callers ensure size() >= 3).
constexpr uint32_t packed3(std::string_view text) {
  return static_cast<uint32_t>(static_cast<unsigned char>(asciiLower(text[0]))) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(asciiLower(text[1]))) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(asciiLower(text[2])));
}

// A forward-only reader over the date text; every step fails closed.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(0, expected.size()) != expected) return false;
    text_.remove_prefix(expected.size());
    return true;
  }
  // The zone name: "GMT" in the grammar, accepted in any case like the day and month names
  // (cache-tests freshness-expires-wrong-case-tz); "UTC" or an offset still fail.
  bool zone() {
    if (!startsWithIgnoreCase(text_, " GMT")) return false;
    text_.remove_prefix(4);
    return true;
  }
  // Exactly `count` digits.
  std::optional<int> digits(size_t count) {
    if (text_.size() < count) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < count; ++i) {
      if (!isDigit(text_[i])) return std::nullopt;
      value = value * 10 + (text_[i] - '0');
    }
    text_.remove_prefix(count);
    return value;
  }
  // Index of the matching name; names are case-sensitive per the grammar, but senders vary
  // in case, so compare case-insensitively (robustness costs nothing here). The first three
  // letters pick the candidate (they are unique in both tables); the rest must then match.
  template <size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    if (text_.size() < 3) return std::nullopt;
    const uint32_t key = packed3(text_);
    for (size_t i = 0; i < N; ++i) {
      if (packed3(names[i]) != key) continue;
      if (!startsWithIgnoreCase(text_, names[i])) return std::nullopt;
      text_.remove_prefix(names[i].size());
      return static_cast<int>(i);
    }
    return std::nullopt;
  }
  bool done() const { return text_.empty(); }

 private:
  std::string_view text_;
};

struct Parts {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

std::optional<WallTime> toWallTime(const Parts& p) {
  if (p.hour > 23 || p.minute > 59 || p.second > 60) return std::nullopt;  // 60: leap second
  const std::chrono::year_month_day ymd{std::chrono::year{p.year},
                                        std::chrono::month{static_cast<unsigned>(p.month)},
                                        std::chrono::day{static_cast<unsigned>(p.day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto seconds = std::chrono::hours{p.hour} + std::chrono::minutes{p.minute} +
                       std::chrono::seconds{std::min(p.second, 59)};
  return WallTime{std::chrono::sys_days{ymd}.time_since_epoch() + seconds};
}

bool readTimeOfDay(Cursor& c, Parts& p) {
  auto h = c.digits(2);
  if (!h || !c.literal(":")) return false;
  auto m = c.digits(2);
  if (!m || !c.literal(":")) return false;
  auto s = c.digits(2);
  if (!s) return false;
  p.hour = *h;
  p.minute = *m;
  p.second = *s;
  return true;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<WallTime> parseImfFixdate(std::string_view text) {
  Cursor c(text);
  Parts p;
  if (!c.name(kDayNames) || !c.literal(", ")) return std::nullopt;
  auto day = c.digits(2);
  if (!day || !c.literal(" ")) return std::nullopt;
  auto month = c.name(kMonthNames);
  if (!month || !c.literal(" ")) return std::nullopt;
  auto year = c.digits(4);
  if (!year || !c.literal(" ") || !readTimeOfDay(c, p) || !c.zone() || !c.done()) {
    return std::nullopt;
  }
  p.day = *day;
  p.month = *month + 1;
  p.year = *year;
  return toWallTime(p);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<WallTime> parseRfc850(std::string_view text) {
  Cursor c(text);
  Parts p;
  if (!c.name(kLongDayNames) || !c.literal(", ")) return std::nullopt;
  auto day = c.digits(2);
  if (!day || !c.literal("-")) return std::nullopt;
  auto month = c.name(kMonthNames);
  if (!month || !c.literal("-")) return std::nullopt;
  auto year = c.digits(2);
  if (!year || !c.literal(" ") || !readTimeOfDay(c, p) || !c.zone() || !c.done()) {
    return std::nullopt;
  }
  p.day = *day;
  p.month = *month + 1;
  // RFC 9110 asks for "more than 50 years in the future means the past century"; policy code
  // has no clock here, so use the fixed pivot that rule gives for the 2020s-2060s: 70-99 is
  // 19xx, 00-69 is 20xx. Nobody has sent rfc850 dates for decades.
  p.year = *year >= 70 ? 1900 + *year : 2000 + *year;
  return toWallTime(p);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<WallTime> parseAsctime(std::string_view text) {
  Cursor c(text);
  Parts p;
  if (!c.name(kDayNames) || !c.literal(" ")) return std::nullopt;
  auto month = c.name(kMonthNames);
  if (!month || !c.literal(" ")) return std::nullopt;
  std::optional<int> day;
  if (c.literal(" ")) {
    day = c.digits(1);
  } else {
    day = c.digits(2);
  }
  if (!day || !c.literal(" ") || !readTimeOfDay(c, p) || !c.literal(" ")) return std::nullopt;
  auto year = c.digits(4);
  if (!year || !c.done()) return std::nullopt;
  p.day = *day;
  p.month = *month + 1;
  p.year = *year;
  return toWallTime(p);
}

void appendTwoDigits(std::string& out, unsigned value) {
  out.push_back(static_cast<char>('0' + (value / 10) % 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

// IMF-fixdate at its fixed offsets, "Sun, 06 Nov 1994 08:49:37 GMT": what every current sender
// uses. Returns nullopt for anything else, which then goes through the general readers (they
// accept exactly the same IMF-fixdate texts, only slower).
std::optional<WallTime> parseFixedImfFixdate(std::string_view t) {
  if (t.size() != 29 || t[3] != ',' || t[4] != ' ' || t[7] != ' ' || t[11] != ' ' ||
      t[16] != ' ' || t[19] != ':' || t[22] != ':' || t[25] != ' ') {
    return std::nullopt;
  }
  const auto two = [&t](size_t at) -> int {
    if (!isDigit(t[at]) || !isDigit(t[at + 1])) return -1;
    return (t[at] - '0') * 10 + (t[at + 1] - '0');
  };
  const int day = two(5), century = two(12), year_in_century = two(14);
  const int hour = two(17), minute = two(20), second = two(23);
  if (day < 0 || century < 0 || year_in_century < 0 || hour < 0 || minute < 0 || second < 0) {
    return std::nullopt;
  }
  if (!equalsIgnoreCase(t.substr(26), "GMT")) return std::nullopt;
  const uint32_t day_key = packed3(t);
  if (std::none_of(kDayNames.begin(), kDayNames.end(),
                   [day_key](std::string_view name) { return packed3(name) == day_key; })) {
    return std::nullopt;
  }
  const uint32_t month_key = packed3(t.substr(8));
  for (size_t i = 0; i < kMonthNames.size(); ++i) {
    if (packed3(kMonthNames[i]) != month_key) continue;
    Parts p;
    p.year = century * 100 + year_in_century;
    p.month = static_cast<int>(i) + 1;
    p.day = day;
    p.hour = hour;
    p.minute = minute;
    p.second = second;
    return toWallTime(p);
  }
  return std::nullopt;
}

}  // namespace

std::optional<WallTime> parseHttpDate(std::string_view text) {
  text = trimOws(text);
  if (auto fixed = parseFixedImfFixdate(text)) return fixed;
  if (text.size() < 24 || text.size() > 40) return std::nullopt;
  if (text[3] == ',') return parseImfFixdate(text);
  if (text[3] == ' ') return parseAsctime(text);
  return parseRfc850(text);
}

void appendHttpDate(std::string& out, WallTime time) {
  const auto days = std::chrono::floor<std::chrono::days>(time);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{time - days};
  const std::chrono::weekday weekday{days};
  out.append(kDayNames[weekday.c_encoding()]);
  out.append(", ");
  appendTwoDigits(out, static_cast<unsigned>(ymd.day()));
  out.push_back(' ');
  out.append(kMonthNames[static_cast<unsigned>(ymd.month()) - 1]);
  out.push_back(' ');
  // Years outside 0000-9999 cannot be expressed in IMF-fixdate; clamp rather than emit junk.
  const int year = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  appendTwoDigits(out, static_cast<unsigned>(year / 100));
  appendTwoDigits(out, static_cast<unsigned>(year % 100));
  out.push_back(' ');
  appendTwoDigits(out, static_cast<unsigned>(hms.hours().count()));
  out.push_back(':');
  appendTwoDigits(out, static_cast<unsigned>(hms.minutes().count()));
  out.push_back(':');
  appendTwoDigits(out, static_cast<unsigned>(hms.seconds().count()));
  out.append(" GMT");
}

void appendDateLine(std::string& out, WallTime time) {
  out.append("Date: ");
  appendHttpDate(out, time);
  out.append("\r\n");
}

std::string formatHttpDate(WallTime time) {
  std::string out;
  out.reserve(29);
  appendHttpDate(out, time);
  return out;
}

}  // namespace ec::http
