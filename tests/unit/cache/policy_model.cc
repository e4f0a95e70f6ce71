#include "policy_model.h"

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "cache/cache_control.h"
#include "cache/cache_key.h"
#include "cache/conditional.h"
#include "cache/freshness.h"
#include "cache/invalidation.h"
#include "cache/range.h"
#include "cache/serve_decision.h"
#include "cache/storability.h"
#include "cache/vary.h"
#include "http/date.h"
#include "http/message.h"

namespace ec::cache::testing {
namespace {

constexpr std::string_view kHost = "example.test";
constexpr std::string_view kScheme = "http";

void toFields(const HeaderList& headers, http::Fields& out) {
  for (const auto& [name, value] : headers) out.addOwned(name, value);
}

HeaderList toList(const http::Fields& fields) {
  HeaderList out;
  for (const http::Field& field : fields.all()) out.emplace_back(field.name, field.value);
  return out;
}

void setHeader(HeaderList& headers, std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& h) { return equalsIgnoreCase(h.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

void removeHeader(HeaderList& headers, std::string_view name) {
  std::erase_if(headers, [&](const auto& h) { return equalsIgnoreCase(h.first, name); });
}

// A request as the codec would hand it to the proxy; owns its text.
struct OwnedRequest {
  std::string method_text;
  std::string path;
  http::RequestHead head;
};

void buildRequest(const ModelRequest& in, OwnedRequest& out) {
  out.method_text = in.method;
  out.path = in.path;
  out.head.method = http::methodFromToken(out.method_text);
  out.head.method_text = out.method_text;
  out.head.target = out.path;
  out.head.path = out.path;
  out.head.authority = kHost;
  toFields(in.headers, out.head.fields);
}

// The origin's answer to one request, as a parsed response head plus body.
struct OriginAnswer {
  http::ResponseHead head;
  std::string body;
};

bool isGetOrHead(http::Method method) {
  return method == http::Method::kGet || method == http::Method::kHead;
}

}  // namespace

const std::string* findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (equalsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

size_t PolicyModel::storedVariantsForTest(const std::string& primary_key) const {
  auto it = store_.find(primary_key);
  return it == store_.end() ? 0 : it->second.size();
}

ModelResult PolicyModel::handle(const ModelRequest& model_request, const ModelOrigin& origin) {
  ModelResult result;
  OwnedRequest owned;
  buildRequest(model_request, owned);
  const http::RequestHead& request = owned.head;
  // The proxy fetches a HEAD miss with GET so the object can be stored; decideStore and
  // makeObjectMeta see that GET.
  OwnedRequest fetch_owned;
  ModelRequest as_get = model_request;
  if (as_get.method == "HEAD") as_get.method = "GET";
  buildRequest(as_get, fetch_owned);
  const http::RequestHead& fetch_request = fetch_owned.head;
  const CacheControl request_cc = parseCacheControl(request.fields);
  const std::string key = primaryKey(kScheme, kHost, request.path);
  const bool head_request = request.method == http::Method::kHead;

  // Calls the scripted origin with `headers`; the origin stamps Date unless scripted.
  auto callOrigin = [&](HeaderList headers, OriginAnswer& answer) {
    result.origin_request_headers = std::move(headers);
    answer.head.status = origin.status;
    toFields(origin.headers, answer.head.fields);
    if (!answer.head.fields.has("date")) {
      answer.head.fields.addOwned("Date", http::formatHttpDate(now_));
    }
    answer.body = origin.status == 304 ? std::string() : origin.body;
    answer.head.framing = http::BodyFraming::kContentLength;
    answer.head.content_length = answer.body.size();
  };
  // Client headers minus what the cache answers itself (conditionals, Range) and hop-by-hop.
  auto forwardedHeaders = [&]() {
    HeaderList headers = model_request.headers;
    for (std::string_view name : {"if-none-match", "if-modified-since", "if-match",
                                  "if-unmodified-since", "if-range", "range"}) {
      removeHeader(headers, name);
    }
    std::erase_if(headers, [&](const auto& h) { return isHopByHop(h.first, request.fields); });
    return headers;
  };
  // The client's answer from a (stored or just fetched) object.
  auto respondFrom = [&](const ObjectMeta& meta, const std::string& body,
                         std::optional<int64_t> age) {
    http::Fields stored;
    parseStoredHead(meta.head, stored);
    result.headers = toList(stored);
    result.status = meta.status;
    result.body = body;
    if (age) setHeader(result.headers, "Age", std::to_string(*age));
    switch (evaluateConditional(request, meta)) {
      case ConditionalResult::kNotModified:
        result.status = 304;
        result.body.clear();
        removeHeader(result.headers, "content-type");
        return;
      case ConditionalResult::kPreconditionFailed:
        result.status = 412;
        result.body.clear();
        return;
      case ConditionalResult::kNone:
        break;
    }
    auto range = request.fields.get("range");
    if (range && meta.status == 200 && request.method == http::Method::kGet &&
        ifRangeMatches(request, meta)) {
      const RangePlan plan = planRanges(*range, body.size(), config_.max_ranges);
      if (plan.kind == RangePlan::kSingle) {
        result.status = 206;
        setHeader(result.headers, "Content-Range", contentRangeValue(plan.ranges[0], body.size()));
        result.body = body.substr(plan.ranges[0].first, plan.ranges[0].length());
      } else if (plan.kind == RangePlan::kMultiple) {
        const std::string boundary = multipartBoundary(0x5eed);
        const std::string type(stored.get("content-type").value_or(""));
        result.status = 206;
        setHeader(result.headers, "Content-Type", multipartContentType(boundary));
        result.body.clear();
        for (const ByteRange& r : plan.ranges) {
          result.body += multipartPartHeader(boundary, type, r, body.size());
          result.body += body.substr(r.first, r.length());
        }
        result.body += multipartTrailer(boundary);
      } else if (plan.kind == RangePlan::kUnsatisfiable) {
        result.status = 416;
        setHeader(result.headers, "Content-Range", unsatisfiedContentRangeValue(body.size()));
        result.body.clear();
      }
    }
    if (head_request) result.body.clear();
  };
  std::vector<Entry>& variants = store_[key];
  auto matching = [&]() {
    return std::find_if(variants.rbegin(), variants.rend(), [&](const Entry& e) {
      auto secondary = secondaryKey(e.meta.vary_names, request.fields);
      return secondary && *secondary == e.secondary_key;
    });
  };
  // Stores `answer` when allowed (replacing the variant this request selects) and answers
  // the client from it.
  auto storeOrPass = [&](OriginAnswer& answer) {
    const CacheControl response_cc = parseCacheControl(answer.head.fields);
    const StoreVerdict verdict =
        decideStore(fetch_request, answer.head, request_cc, response_cc, config_);
    ObjectMeta meta = makeObjectMeta(fetch_request, answer.head, now_, now_, config_);
    // A new representation replaces the variant this request selected; an origin error
    // (5xx) says nothing about the resource, so the stored variant stays.
    if (verdict == StoreVerdict::kStore || answer.head.status < 500) {
      std::erase_if(variants, [&](const Entry& e) {
        auto secondary = secondaryKey(e.meta.vary_names, request.fields);
        return secondary && *secondary == e.secondary_key;
      });
    }
    if (verdict == StoreVerdict::kStore) {
      auto secondary = secondaryKey(meta.vary_names, request.fields);
      variants.push_back(Entry{meta, answer.body, secondary.value_or("")});
      respondFrom(meta, answer.body, currentAge(meta, now_));
      return;
    }
    if (answer.head.status >= 200 && answer.head.status < 300) {
      respondFrom(meta, answer.body, std::nullopt);
      return;
    }
    result.status = answer.head.status;
    result.headers = toList(answer.head.fields);
    result.body = head_request ? std::string() : answer.body;
  };

  // Unsafe (or merely uncacheable) methods go to the origin; success invalidates (§4.4).
  if (!isGetOrHead(request.method)) {
    OriginAnswer answer;
    result.origin_hit = true;
    callOrigin(model_request.headers, answer);
    for (const std::string& stale_key :
         invalidationKeys(request, answer.head.status, answer.head.fields, kScheme)) {
      store_.erase(stale_key);
    }
    result.status = answer.head.status;
    result.headers = toList(answer.head.fields);
    result.body = answer.body;
    return result;
  }

  auto found = matching();
  if (found == variants.rend()) {
    if (request_cc.only_if_cached) {
      result.status = 504;
      return result;
    }
    OriginAnswer answer;
    result.origin_hit = true;
    callOrigin(forwardedHeaders(), answer);
    storeOrPass(answer);
    return result;
  }

  Entry& entry = *found;
  const ServeDecision decision = decideServe(entry.meta, request_cc, now_, config_);
  switch (decision.verdict) {
    case ServeVerdict::kFresh:
    case ServeVerdict::kStaleAllowed:
      respondFrom(entry.meta, entry.body, decision.age);
      return result;
    case ServeVerdict::kOnlyIfCachedFail:
      result.status = 504;
      return result;
    case ServeVerdict::kStaleWhileRevalidate: {
      respondFrom(entry.meta, entry.body, decision.age);
      // The background refresh runs after the client was answered.
      const ModelResult answered = result;
      result.background_fetch = true;
      HeaderList headers = forwardedHeaders();
      http::Fields validators;
      appendValidators(validators, entry.meta);
      for (const http::Field& f : validators.all()) headers.emplace_back(f.name, f.value);
      OriginAnswer answer;
      callOrigin(std::move(headers), answer);
      if (answer.head.status == 304 && notModifiedSelects(entry.meta, answer.head)) {
        updateFromNotModified(entry.meta, answer.head, now_, now_, config_);
      } else if (answer.head.status < 500) {
        storeOrPass(answer);
      }
      HeaderList origin_seen = std::move(result.origin_request_headers);
      result = answered;
      result.background_fetch = true;
      result.origin_request_headers = std::move(origin_seen);
      return result;
    }
    case ServeVerdict::kRevalidate:
      break;
  }

  HeaderList headers = forwardedHeaders();
  http::Fields validators;
  appendValidators(validators, entry.meta);
  for (const http::Field& f : validators.all()) headers.emplace_back(f.name, f.value);
  OriginAnswer answer;
  result.origin_hit = true;
  callOrigin(std::move(headers), answer);
  if (answer.head.status == 304 && notModifiedSelects(entry.meta, answer.head)) {
    updateFromNotModified(entry.meta, answer.head, now_, now_, config_);
    respondFrom(entry.meta, entry.body, currentAge(entry.meta, now_));
    return result;
  }
  if (answer.head.status >= 500 && mayServeStaleOnError(entry.meta, request_cc, now_, config_)) {
    respondFrom(entry.meta, entry.body, currentAge(entry.meta, now_));
    return result;
  }
  storeOrPass(answer);
  return result;
}

}  // namespace ec::cache::testing
