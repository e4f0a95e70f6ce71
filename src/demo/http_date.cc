#include "demo/http_date.h"

#include <array>
#include <cstdio>

#include "base/strings.h"

namespace ec::demo {
namespace {

constexpr std::array<const char*, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::optional<unsigned> parseFixedDigits(std::string_view text) {
  auto value = parseDecimal(text);
  if (!value || *value > 100000) return std::nullopt;
  return static_cast<unsigned>(*value);
}

}  // namespace

std::string formatHttpDate(WallTime time) {
  using namespace std::chrono;
  const sys_days day = floor<days>(time);
  const year_month_day ymd{day};
  const hh_mm_ss hms{time - day};
  char out[40];
  std::snprintf(out, sizeof(out), "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kWeekdays[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return out;
}

std::optional<WallTime> parseHttpDate(std::string_view text) {
  using namespace std::chrono;
  // "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 characters.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  unsigned month = 0;
  while (month < 12 && text.substr(8, 3) != kMonths[month]) ++month;
  auto mday = parseFixedDigits(text.substr(5, 2));
  auto yr = parseFixedDigits(text.substr(12, 4));
  auto hour = parseFixedDigits(text.substr(17, 2));
  auto minute = parseFixedDigits(text.substr(20, 2));
  auto second = parseFixedDigits(text.substr(23, 2));
  if (month == 12 || !mday || !yr || !hour || !minute || !second || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  const year_month_day ymd{year{static_cast<int>(*yr)}, std::chrono::month{month + 1},
                           day{*mday}};
  if (!ymd.ok()) return std::nullopt;
  return WallTime{sys_days{ymd}.time_since_epoch() + hours{*hour} + minutes{*minute} +
                  seconds{*second}};
}

}  // namespace ec::demo
