#include "cache/invalidation.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "cache/cache_key.h"

namespace ec::cache {
namespace {

struct ResolvedUri {
  std::string scheme;
  std::string authority;
  std::string path_and_query;
};

// Resolves a URI reference against the request target (RFC 3986 §5.2, simplified: a proxy only
// needs the authority and path). nullopt for references we cannot place.
std::optional<ResolvedUri> resolve(std::string_view reference, std::string_view base_scheme,
                                   std::string_view base_authority, std::string_view base_path) {
  reference = trimOws(reference);
  const size_t hash = reference.find('#');
  if (hash != std::string_view::npos) reference = reference.substr(0, hash);
  if (reference.empty()) return std::nullopt;

  ResolvedUri out;
  std::string_view rest = reference;
  const size_t colon = reference.find(':');
  const size_t slash = reference.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    out.scheme = toLower(reference.substr(0, colon));
    rest = reference.substr(colon + 1);
    if (!rest.starts_with("//")) return std::nullopt;  // e.g. "mailto:" or "urn:"
  } else {
    out.scheme = toLower(base_scheme);
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const size_t end = rest.find_first_of("/?");
    out.authority = std::string(rest.substr(0, end));
    out.path_and_query = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
    return out;
  }
  out.authority = std::string(base_authority);
  if (rest.starts_with("/")) {
    out.path_and_query = std::string(rest);
  } else if (rest.starts_with("?")) {
    out.path_and_query = std::string(base_path.substr(0, base_path.find('?'))) + std::string(rest);
  } else {
    // Merge with the base path's directory; primaryKey removes any dot-segments.
    std::string_view dir = base_path.substr(0, base_path.find('?'));
    dir = dir.substr(0, dir.rfind('/') + 1);
    out.path_and_query = std::string(dir.empty() ? "/" : dir) + std::string(rest);
  }
  return out;
}

}  // namespace

std::vector<std::string> invalidationKeys(const http::RequestHead& request, int response_status,
                                          const http::Fields& response_fields,
                                          std::string_view scheme) {
  std::vector<std::string> keys;
  if (http::isSafeMethod(request.method)) return keys;
  if (response_status < 200 || response_status > 399) return keys;

  const std::string_view path = request.path.empty() ? request.target : request.path;
  keys.push_back(primaryKey(scheme, request.authority, path));
  const std::string host = normalizeAuthority(scheme, request.authority);
  for (std::string_view name : {"location", "content-location"}) {
    auto value = response_fields.get(name);
    if (!value) continue;
    auto uri = resolve(*value, scheme, request.authority, path);
    if (!uri || normalizeAuthority(uri->scheme, uri->authority) != host) continue;
    std::string key = primaryKey(uri->scheme, uri->authority, uri->path_and_query);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  }
  return keys;
}

}  // namespace ec::cache
