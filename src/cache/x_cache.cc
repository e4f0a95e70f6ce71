#include "cache/x_cache.h"

#include <vector>

#include "base/strings.h"

namespace ec::cache {
namespace {

enum class Disposition { kOther, kHit, kMiss, kPass, kInt };

bool isTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

Disposition classify(std::string_view element) {
  const size_t space = element.find(' ');
  if (space == 0 || space == std::string_view::npos) return Disposition::kOther;
  for (char c : element.substr(0, space)) {
    if (!isTchar(c)) return Disposition::kOther;
  }
  std::string_view word = element.substr(space + 1);
  const size_t slash = word.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view count = word.substr(slash + 1);
    if (count.empty()) return Disposition::kOther;
    for (char c : count) {
      if (!isDigit(c)) return Disposition::kOther;
    }
    word = word.substr(0, slash);
  }
  if (word == "hit") return Disposition::kHit;
  if (word == "miss") return Disposition::kMiss;
  if (word == "pass") return Disposition::kPass;
  if (word == "int") return Disposition::kInt;
  return Disposition::kOther;
}

// Position from the end of the last `wanted`: 0 = last, 1 = second to last, -1 = none.
int positionFromEnd(const std::vector<Disposition>& chain, Disposition wanted) {
  for (size_t i = chain.size(); i-- > 0;) {
    if (chain[i] == wanted) return static_cast<int>(chain.size() - 1 - i);
  }
  return -1;
}

}  // namespace

std::string appendXCache(std::string_view upstream_x_cache, std::string_view node,
                         std::string_view disposition) {
  std::string out(trimOws(upstream_x_cache));
  if (!out.empty()) out.append(", ");
  out.append(node);
  out.push_back(' ');
  out.append(disposition);
  return out;
}

std::string_view xCacheStatus(std::string_view x_cache) {
  std::vector<Disposition> chain;
  size_t start = 0;
  for (size_t i = 0; i <= x_cache.size(); ++i) {
    if (i < x_cache.size() && x_cache[i] != ',') continue;
    const std::string_view element = trimOws(x_cache.substr(start, i - start));
    start = i + 1;
    if (!element.empty()) chain.push_back(classify(element));
  }
  if (chain.empty()) return "unknown";
  const int hit = positionFromEnd(chain, Disposition::kHit);
  if (hit == 0) return "hit-front";
  if (hit == 1) return "hit-local";
  if (hit > 1) return "hit-remote";
  const int internal = positionFromEnd(chain, Disposition::kInt);
  if (internal == 0) return "int-front";
  if (internal == 1) return "int-local";
  if (internal > 1) return "int-remote";
  if (chain.back() == Disposition::kMiss) return "miss";
  if (chain.back() == Disposition::kPass) return "pass";
  return "unknown";
}

}  // namespace ec::cache
