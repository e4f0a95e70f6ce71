#include "cache/cache_control.h"

#include <string>
#include <string_view>

#include "base/strings.h"

namespace ec::cache {
namespace {

// Unquotes a quoted-string argument (RFC 9110 §5.6.4); a token is returned as is. An
// unterminated quote yields nullopt so the directive's argument counts as invalid.
std::optional<std::string> unquote(std::string_view value) {
  if (value.empty() || value.front() != '"') return std::string(value);
  std::string out;
  for (size_t i = 1; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\') {
      if (++i == value.size()) return std::nullopt;
      out.push_back(value[i]);
    } else if (c == '"') {
      if (i + 1 != value.size()) return std::nullopt;  // junk after the closing quote
      return out;
    } else {
      out.push_back(c);
    }
  }
  return std::nullopt;
}

// delta-seconds = 1*DIGIT; overflow clamps to 2^31 (RFC 9111 §1.2.2).
std::optional<int64_t> parseDeltaSeconds(std::string_view argument) {
  if (argument.empty()) return std::nullopt;
  for (char c : argument) {
    if (!isDigit(c)) return std::nullopt;
  }
  auto value = parseDecimal(argument);
  if (!value || *value > static_cast<uint64_t>(kMaxDeltaSeconds)) return kMaxDeltaSeconds;
  return static_cast<int64_t>(*value);
}

struct Directive {
  std::string_view name;
  std::optional<std::string> argument;  // unquoted; nullopt when absent or malformed
  bool has_argument = false;
};

Directive splitDirective(std::string_view element) {
  Directive d;
  const size_t eq = element.find('=');
  if (eq == std::string_view::npos) {
    d.name = trimOws(element);
    return d;
  }
  d.name = trimOws(element.substr(0, eq));
  d.has_argument = true;
  // The grammar has no whitespace around '=' (RFC 9111 §5.2): "max-age =60" or "max-age= 60"
  // is a malformed argument, not a lifetime.
  const std::string_view before = element.substr(0, eq);
  const std::string_view after = element.substr(eq + 1);
  const bool spaced = (!before.empty() && (before.back() == ' ' || before.back() == '\t')) ||
                      (!after.empty() && (after.front() == ' ' || after.front() == '\t'));
  if (!spaced) d.argument = unquote(after);
  return d;
}

void setNumberOnce(std::optional<int64_t>& slot, bool& seen, const Directive& d,
                   bool invalid_means_stale) {
  if (seen) return;  // first occurrence wins
  seen = true;
  std::optional<int64_t> value;
  if (d.argument) value = parseDeltaSeconds(*d.argument);
  if (value) {
    slot = value;
  } else if (invalid_means_stale) {
    slot = 0;
  }
}

}  // namespace

CacheControl parseCacheControl(const http::Fields& fields) {
  CacheControl cc;
  bool seen_max_age = false, seen_s_maxage = false, seen_max_stale = false;
  bool seen_min_fresh = false, seen_swr = false, seen_sie = false;
  fields.forEachListElement("cache-control", [&](std::string_view element) {
    const Directive d = splitDirective(element);
    // Lowercased into a stack buffer: no known directive is longer than kLongestName, so a
    // longer name is unknown without looking further (and costs no allocation).
    constexpr size_t kLongestName = 22;  // "stale-while-revalidate"
    if (d.name.size() > kLongestName) return;
    char lowered[kLongestName];
    for (size_t i = 0; i < d.name.size(); ++i) lowered[i] = asciiLower(d.name[i]);
    const std::string_view name(lowered, d.name.size());
    if (name == "max-age") {
      setNumberOnce(cc.max_age, seen_max_age, d, true);
    } else if (name == "s-maxage") {
      setNumberOnce(cc.s_maxage, seen_s_maxage, d, true);
    } else if (name == "max-stale") {
      if (seen_max_stale) return;
      if (!d.has_argument) {
        seen_max_stale = true;
        cc.max_stale_any = true;
        return;
      }
      setNumberOnce(cc.max_stale, seen_max_stale, d, false);
    } else if (name == "min-fresh") {
      setNumberOnce(cc.min_fresh, seen_min_fresh, d, false);
    } else if (name == "stale-while-revalidate") {
      setNumberOnce(cc.stale_while_revalidate, seen_swr, d, false);
    } else if (name == "stale-if-error") {
      setNumberOnce(cc.stale_if_error, seen_sie, d, false);
    } else if (name == "no-store") {
      cc.no_store = true;
    } else if (name == "no-cache") {
      cc.no_cache = true;
    } else if (name == "private") {
      cc.private_ = true;
    } else if (name == "public") {
      cc.public_ = true;
    } else if (name == "must-revalidate") {
      cc.must_revalidate = true;
    } else if (name == "proxy-revalidate") {
      cc.proxy_revalidate = true;
    } else if (name == "only-if-cached") {
      cc.only_if_cached = true;
    } else if (name == "no-transform") {
      cc.no_transform = true;
    } else if (name == "immutable") {
      cc.immutable = true;
    } else if (name == "must-understand") {
      cc.must_understand = true;
    }
  });
  return cc;
}

}  // namespace ec::cache
