#pragma once
// X-Cache and X-Cache-Status, the layered cache-disposition headers of the Wikimedia CDN
// (reference/wikimedia-traffic.md §7): "<node> <hit|miss|pass|int>" per layer, innermost
// first, and a one-word summary derived from the chain.

#include <string>
#include <string_view>

namespace ec::cache {

// Appends "<node> <disposition>" to the chain received from upstream ("" when none):
// "cp1 miss" + ("cp2", "hit/3") -> "cp1 miss, cp2 hit/3". disposition is "hit", "hit/N",
// "miss", "pass" or "int".
std::string appendXCache(std::string_view upstream_x_cache, std::string_view node,
                         std::string_view disposition);

// Classifies an X-Cache chain. Each element "<node> <hit|miss|pass|int>[/<digits>]" (node is
// any token) reduces to its disposition; anything else reduces to nothing that matches. First
// test that holds: last is hit -> "hit-front"; second to last is hit -> "hit-local"; any earlier
// hit -> "hit-remote"; the same three for int -> "int-front", "int-local", "int-remote"; last is
// miss -> "miss"; last is pass -> "pass"; else "unknown".
std::string_view xCacheStatus(std::string_view x_cache);

}  // namespace ec::cache
