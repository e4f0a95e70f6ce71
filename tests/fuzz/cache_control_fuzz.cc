// Fuzzes the header-driven cache policy: the input is a header section ("Name: value" lines);
// Cache-Control, Vary, dates, the storage decision, freshness and serving are computed from it
// and their invariants checked. The first line doubles as a request target for primaryKey and
// as an HTTP-date (which must round-trip when it parses).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/cache_control.h"
#include "cache/cache_key.h"
#include "cache/conditional.h"
#include "cache/freshness.h"
#include "cache/serve_decision.h"
#include "cache/storability.h"
#include "cache/vary.h"
#include "http/date.h"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void checkDelta(const std::optional<int64_t>& value) {
  if (value) check(*value >= 0 && *value <= ec::cache::kMaxDeltaSeconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  http::RequestHead request;
  request.authority = "example.test";
  http::ResponseHead response;
  response.status = 200;
  std::string_view first_line;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(start, end - start);
    if (start == 0) first_line = line;
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      // Odd lines describe the response, even lines the request: both sides get fuzzed.
      auto& fields = (start % 2 == 0) ? response.fields : request.fields;
      fields.add(line.substr(0, colon), line.substr(colon + 1));
    }
    start = end + 1;
  }

  const cache::CacheControl response_cc = cache::parseCacheControl(response.fields);
  const cache::CacheControl request_cc = cache::parseCacheControl(request.fields);
  for (const auto* cc : {&response_cc, &request_cc}) {
    checkDelta(cc->max_age);
    checkDelta(cc->s_maxage);
    checkDelta(cc->max_stale);
    checkDelta(cc->min_fresh);
    checkDelta(cc->stale_while_revalidate);
    checkDelta(cc->stale_if_error);
    check(!(cc->max_stale_any && cc->max_stale));
  }

  if (auto date = http::parseHttpDate(first_line)) {
    check(http::parseHttpDate(http::formatHttpDate(*date)) == *date);
  }
  const std::string key = cache::primaryKey("http", "example.test", first_line);
  check(key.starts_with("http://example.test"));

  const auto vary = cache::parseVary(response.fields);
  const auto secondary = cache::secondaryKey(vary, request.fields);
  for (const auto& name : vary) {
    if (name == "*") check(!secondary);
  }

  const cache::PolicyConfig config;
  const WallTime now{Seconds{1'700'000'000}};
  (void)cache::decideStore(request, response, request_cc, response_cc, config);
  cache::ObjectMeta meta = cache::makeObjectMeta(request, response, now, now, config);
  check(meta.freshness_lifetime >= 0 && meta.freshness_lifetime <= config.ttl_cap);
  check(meta.corrected_initial_age >= 0);
  const cache::ServeDecision decision = cache::decideServe(meta, request_cc, now, config);
  check(decision.age == cache::currentAge(meta, now));
  (void)cache::mayServeStaleOnError(meta, request_cc, now, config);
  (void)cache::evaluateConditional(request, meta);
  (void)cache::ifRangeMatches(request, meta);

  // A 304 repeating the stored head must leave a consistent object behind.
  http::ResponseHead not_modified;
  not_modified.status = 304;
  cache::parseStoredHead(meta.head, not_modified.fields);
  cache::updateFromNotModified(meta, not_modified, now, now, config);
  check(meta.freshness_lifetime >= 0 && meta.freshness_lifetime <= config.ttl_cap);
  return 0;
}
