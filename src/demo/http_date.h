#pragma once
// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 §5.6.7) for the demo origin's Date,
// Last-Modified and If-Modified-Since. The demo only ever sends this form, and accepts only
// it back: an obsolete date form in If-Modified-Since is ignored, which RFC 9110 allows.

#include <optional>
#include <string>
#include <string_view>

#include "base/time_source.h"

namespace ec::demo {

std::string formatHttpDate(WallTime time);
std::optional<WallTime> parseHttpDate(std::string_view text);

}  // namespace ec::demo
