#include "cache/conditional.h"

#include <optional>

#include "base/strings.h"
#include "cache/freshness.h"
#include "http/date.h"

namespace ec::cache {
namespace {

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
std::optional<EntityTag> parseEtag(std::string_view text) {
  text = trimOws(text);
  EntityTag tag;
  if (text.starts_with("W/")) {
    tag.weak = true;
    text.remove_prefix(2);
  }
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
  if (text.substr(1, text.size() - 2).find('"') != std::string_view::npos) return std::nullopt;
  tag.opaque = text;
  return tag;
}

bool isGetOrHead(const http::RequestHead& request) {
  return request.method == http::Method::kGet || request.method == http::Method::kHead;
}

// True when some element of the list field `name` matches the stored ETag ("*" matches any
// stored representation).
template <typename Compare>
bool listMatches(const http::Fields& fields, std::string_view name, const ObjectMeta& meta,
                 Compare compare) {
  bool matched = false;
  fields.forEachListElement(name, [&](std::string_view element) {
    if (element == "*" || compare(element, meta.etag)) matched = true;
  });
  return matched;
}

// The time If-Modified-Since is compared with (RFC 9111 §4.3.2): the stored Last-Modified;
// without one the stored Date; without either, when the response arrived.
std::optional<WallTime> modificationTimeForIms(const ObjectMeta& meta) {
  if (!meta.last_modified.empty()) return http::parseHttpDate(meta.last_modified);
  std::optional<WallTime> date;
  forEachStoredField(meta.head,
                     [&](std::string_view, std::string_view name, std::string_view value) {
                       if (!date && equalsIgnoreCase(name, "date")) {
                         date = http::parseHttpDate(value);
                       }
                     });
  if (date) return date;
  return meta.response_time;
}

std::optional<WallTime> storedLastModified(const ObjectMeta& meta) {
  if (meta.last_modified.empty()) return std::nullopt;
  return http::parseHttpDate(meta.last_modified);
}

}  // namespace

bool strongEtagMatch(std::string_view a, std::string_view b) {
  auto x = parseEtag(a);
  auto y = parseEtag(b);
  return x && y && !x->weak && !y->weak && x->opaque == y->opaque;
}

bool weakEtagMatch(std::string_view a, std::string_view b) {
  auto x = parseEtag(a);
  auto y = parseEtag(b);
  if (x && y) return x->opaque == y->opaque;
  // A malformed validator (unquoted "abcdef", lowercase "w/", ...) still identifies the stored
  // representation when the client echoes it byte for byte, as it does with what it was sent.
  const std::string_view raw_a = trimOws(a);
  return !x && !y && !raw_a.empty() && raw_a == trimOws(b);
}

ConditionalResult evaluateConditional(const http::RequestHead& request, const ObjectMeta& meta) {
  if (meta.status < 200 || meta.status > 299) return ConditionalResult::kNone;
  const http::Fields& fields = request.fields;
  // Most requests carry no "If-..." field at all: one pass over the names says so, instead of
  // four lookups.
  bool any_if = false;
  for (const http::Field& field : fields.all()) {
    const std::string_view name = field.name;
    if (name.size() >= 8 && name[2] == '-' && (name[0] == 'i' || name[0] == 'I') &&
        (name[1] == 'f' || name[1] == 'F')) {
      any_if = true;
      break;
    }
  }
  if (!any_if) return ConditionalResult::kNone;

  if (fields.has("if-match")) {
    if (!listMatches(fields, "if-match", meta, strongEtagMatch)) {
      return ConditionalResult::kPreconditionFailed;
    }
  } else if (auto ius = fields.get("if-unmodified-since")) {
    auto date = http::parseHttpDate(*ius);
    auto modified = storedLastModified(meta);
    if (date && modified && *modified > *date) return ConditionalResult::kPreconditionFailed;
  }

  if (fields.has("if-none-match")) {
    if (listMatches(fields, "if-none-match", meta, weakEtagMatch)) {
      return isGetOrHead(request) ? ConditionalResult::kNotModified
                                  : ConditionalResult::kPreconditionFailed;
    }
    return ConditionalResult::kNone;
  }
  if (isGetOrHead(request)) {
    if (auto ims = fields.get("if-modified-since")) {
      auto date = http::parseHttpDate(*ims);
      auto modified = modificationTimeForIms(meta);
      if (date && modified && *modified <= *date) return ConditionalResult::kNotModified;
    }
  }
  return ConditionalResult::kNone;
}

void appendValidators(http::Fields& out_fields, const ObjectMeta& meta) {
  if (!meta.etag.empty()) out_fields.addOwned("If-None-Match", meta.etag);
  if (!meta.last_modified.empty()) out_fields.addOwned("If-Modified-Since", meta.last_modified);
}

bool ifRangeMatches(const http::RequestHead& request, const ObjectMeta& meta) {
  auto value = request.fields.get("if-range");
  if (!value) return true;
  const std::string_view text = trimOws(*value);
  if (text.starts_with("\"") || text.starts_with("W/")) return strongEtagMatch(text, meta.etag);
  auto date = http::parseHttpDate(text);
  auto modified = storedLastModified(meta);
  return date && modified && *date == *modified;
}

}  // namespace ec::cache
