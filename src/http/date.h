#pragma once
// HTTP-date (RFC 9110 §5.6.7): parsing of the three historical formats and formatting of the
// preferred IMF-fixdate. Used by the cache policy (Date, Expires, Last-Modified, If-Range,
// If-Modified-Since) and by the server to stamp Date on responses.

#include <optional>
#include <string>
#include <string_view>

#include "base/time_source.h"

namespace ec::http {

// Accepts IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), rfc850-date
// ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime-date ("Sun Nov  6 08:49:37 1994"), with
// surrounding whitespace. nullopt for anything else, including impossible calendar dates.
std::optional<WallTime> parseHttpDate(std::string_view text);

// Appends the IMF-fixdate form of `time` (always 29 characters).
void appendHttpDate(std::string& out, WallTime time);
// Appends "Date: <IMF-fixdate>\r\n": answers edgecache makes itself, and responses that
// arrived without one (RFC 9110 §6.6.1: a recipient with a clock MUST add it when it caches or
// forwards such a response).
void appendDateLine(std::string& out, WallTime time);
std::string formatHttpDate(WallTime time);

}  // namespace ec::http
