#include "purge/purge_target.h"

#include "base/strings.h"

namespace ec::purge {
namespace {

Error badUrl(const char* why) { return Error::downstream(ErrorKind::kParse, why); }

}  // namespace

Result<PurgeTarget> parsePurgeUrl(std::string_view url) {
  if (url.empty()) return fail(badUrl("empty URL"));
  if (url.size() > kMaxPurgeUrl) return fail(badUrl("URL too long"));
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) return fail(badUrl("URL holds a control, space or non-ASCII byte"));
  }
  PurgeTarget target;
  const size_t colon = url.find("://");
  if (colon == std::string_view::npos) return fail(badUrl("not an absolute http(s) URL"));
  target.scheme = url.substr(0, colon);
  if (!equalsIgnoreCase(target.scheme, "http") && !equalsIgnoreCase(target.scheme, "https")) {
    return fail(badUrl("scheme is not http or https"));
  }
  std::string_view rest = url.substr(colon + 3);
  const size_t path_start = rest.find_first_of("/?#");
  target.authority = rest.substr(0, path_start);
  if (target.authority.empty()) return fail(badUrl("no host"));
  if (target.authority.find('@') != std::string_view::npos) return fail(badUrl("userinfo in URL"));
  if (path_start == std::string_view::npos) {
    target.path = "/";
    return target;
  }
  target.path = rest.substr(path_start);
  if (target.path.find('#') != std::string_view::npos) return fail(badUrl("fragment in URL"));
  if (target.path.front() == '?') {
    // "http://host?q" names "/?q"; primaryKey makes an empty path "/" and keeps the query.
  }
  return target;
}

}  // namespace ec::purge
