#pragma once
// Invalidation by unsafe methods (RFC 9111 §4.4): which primary keys a successful POST, PUT,
// DELETE... makes stale.

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace ec::cache {

// Empty unless the method is unsafe (anything but GET, HEAD, OPTIONS, TRACE; unknown methods
// count as unsafe) and the status is non-error (2xx or 3xx). Otherwise the primaryKey of the
// target URI, then of Location and Content-Location when they resolve (relative references
// against the target) to the same host; duplicates removed. A key for another host is never
// returned: that would let one origin purge another's objects.
std::vector<std::string> invalidationKeys(const http::RequestHead& request, int response_status,
                                          const http::Fields& response_fields,
                                          std::string_view scheme);

}  // namespace ec::cache
