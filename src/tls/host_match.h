#pragma once
// Host name matching for certificates (RFC 6125 §6.4): names compare case-insensitively, a
// trailing dot is ignored, and a wildcard stands for exactly one whole left-most label
// ("*.wiki.test" covers "en.wiki.test", not "wiki.test" nor "a.en.wiki.test"). Pure functions,
// so the SNI index and the 421 check for coalesced HTTP/2 connections agree.

#include <string>
#include <string_view>

namespace ec::tls {

// "En.Wiki.Test." -> "en.wiki.test"; a port is not expected here (SNI has none).
std::string normalizeHostName(std::string_view name);
// True when certificate name `pattern` (normalised, may start with "*.") covers `host`
// (normalised).
bool certificateNameCovers(std::string_view pattern, std::string_view host);
// The wildcard a host would match: "en.wiki.test" -> "*.wiki.test"; "" for a single label.
std::string wildcardFor(std::string_view host);

}  // namespace ec::tls
