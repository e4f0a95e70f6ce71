#pragma once
// Vary (RFC 9111 §4.1): which request fields select among stored variants of one primary key,
// and the secondary key that encodes a request's values of those fields.

#include <optional>
#include <string>
#include <vector>

#include "http/fields.h"

namespace ec::cache {

// Field names listed in every Vary line of `response`, lowercased, in order, without
// duplicates. "*" is kept (as "*").
std::vector<std::string> parseVary(const http::Fields& response);

// The secondary key of `request` for a response that varied on `vary_names` (lowercased):
//  - nullopt when vary_names contains "*": such a response never matches a later request;
//  - "" when vary_names is empty;
//  - otherwise, for each name in order, "name=value\n" when the request has the field and
//    "name\n" when it does not (absent differs from empty, RFC 9111 §4.1). The value is every
//    line of the field combined, each list element OWS-trimmed, inner runs of whitespace
//    collapsed to one SP, and the elements joined with ",". Accept-Language and
//    Accept-Encoding values are lowercased (their tokens are case-insensitive); semantics
//    beyond that (element order, q-values) are not normalised: only the origin knows them.
std::optional<std::string> secondaryKey(const std::vector<std::string>& vary_names,
                                        const http::Fields& request);

}  // namespace ec::cache
