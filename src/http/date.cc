#include "http/date.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "base/strings.h"

namespace ec::http {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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
  // in case, so compare case-insensitively (robustness costs nothing here).
  template <size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    for (size_t i = 0; i < N; ++i) {
      if (startsWithIgnoreCase(text_, names[i])) {
        text_.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
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

}  // namespace

std::optional<WallTime> parseHttpDate(std::string_view text) {
  text = trimOws(text);
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

std::string formatHttpDate(WallTime time) {
  std::string out;
  out.reserve(29);
  appendHttpDate(out, time);
  return out;
}

}  // namespace ec::http
