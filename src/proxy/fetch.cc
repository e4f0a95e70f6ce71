#include "proxy/fetch.h"

#include "base/strings.h"
#include "cache/cache_control.h"
#include "cache/conditional.h"
#include "cache/freshness.h"
#include "cache/serve_decision.h"
#include "cache/storability.h"
#include "cache/vary.h"
#include "http/serializer.h"
#include "observe/metric.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"

namespace ec::proxy {
namespace {

int statusForOriginError(const Error& error) {
  return error.kind == ErrorKind::kTimeout ? 504 : 502;
}

// Takes the X-Cache received from upstream out of the stored head (this node appends itself
// on every answer) and drops X-Cache-Status, which each layer derives anew.
// True when some stored line's name starts with "x-cache" (X-Cache, X-Cache-Status): most
// origins send neither, and then the head needs no rebuilding.
bool mentionsXCache(std::string_view head) {
  constexpr std::string_view kPrefix = "x-cache";
  for (size_t start = 0; start < head.size();) {
    if ((head[start] | 0x20) == 'x' && startsWithIgnoreCase(head.substr(start), kPrefix)) return true;
    const size_t end = head.find('\n', start);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return false;
}

void liftXCache(cache::ObjectMeta& meta) {
  if (!mentionsXCache(meta.head)) return;
  std::string kept;
  kept.reserve(meta.head.size());
  cache::forEachStoredField(meta.head, [&](std::string_view line, std::string_view name,
                                           std::string_view value) {
    if (equalsIgnoreCase(name, "x-cache")) {
      meta.upstream_x_cache = std::string(value);
    } else if (!equalsIgnoreCase(name, "x-cache-status")) {
      kept.append(line);
      kept.append("\r\n");
    }
  });
  meta.head = std::move(kept);
}

}  // namespace

void Fetch::start(WorkerContext& worker, Params params) {
  auto fetch = std::make_shared<Fetch>(worker, std::move(params));
  fetch->running_ = true;
  worker.fetchStarted(fetch);
  fetch->begin();
}

Fetch::Fetch(WorkerContext& worker, Params params)
    : worker_(worker), params_(std::move(params)), request_parser_(params_.config->limits) {}

CoalescedOutcome Fetch::staleOutcome() const {
  auto secondary = cache::secondaryKey(params_.stale->meta().vary_names, request_.fields);
  return CoalescedOutcome{CoalescedOutcome::Kind::kObject, params_.stale, secondary.value_or(""), 0};
}

Transaction* Fetch::liveLeader() const {
  return params_.leader_alive.expired() ? nullptr : params_.leader;
}

void Fetch::begin() {
  // Re-parse our own copy of the head: its views must outlive the client's buffer.
  if (request_parser_.parse(params_.raw_request_head, request_) !=
      http::RequestParser::Status::kDone) {
    publish(CoalescedOutcome{CoalescedOutcome::Kind::kError, nullptr, {}, 500}, false);
    done();
    return;
  }
  const auto& origins = params_.service->origins;
  const upstream::OriginSettings& origin = origins[worker_.nextOriginIndex() % origins.size()];
  http::Fields extra;
  if (params_.stale) {
    cache::appendValidators(extra, params_.stale->meta());
    worker_.shared().stats().revalidations.fetch_add(1, std::memory_order_relaxed);
  }
  // A HEAD miss fetches the whole object so the next GET is a hit (the body is not sent).
  const http::Method client_method = request_.method;
  std::string head_bytes;
  // The forwarded head is the client's minus a few fields plus X-Forwarded-*: one allocation.
  head_bytes.reserve(params_.raw_request_head.size() + 256);
  if (client_method == http::Method::kHead) {
    request_.method = http::Method::kGet;
    request_.method_text = "GET";
  }
  http::ForwardOptions options;
  options.client_address = params_.client_ip;
  options.forwarded_proto = params_.secure ? "https" : "http";
  // Client validators are the client's business: the cache revalidates with its own.
  request_.fields.remove("if-none-match");
  request_.fields.remove("if-modified-since");
  request_.fields.remove("if-match");
  request_.fields.remove("if-unmodified-since");
  request_.fields.remove("if-range");
  request_.fields.remove("range");
  http::appendOriginRequest(head_bytes, request_, options, extra.empty() ? nullptr : &extra);
  (void)client_method;  // the stored object answers GET and HEAD alike
  request_time_ = worker_.shared().clock().wallNow();
  origin_start_ = worker_.shared().clock().monoNow();
  origin_index_ = static_cast<size_t>(&origin - origins.data());
  exchange_ = std::make_unique<upstream::OriginExchange>(worker_.poolFor(origin), *this);
  exchange_->start(std::move(head_bytes), http::Method::kGet, false);
}

void Fetch::publish(const CoalescedOutcome& outcome, bool stale) {
  if (published_) return;
  published_ = true;
  worker_.shared().coalescer().complete(params_.primary_key, outcome, params_.flight);
  if (Transaction* leader = liveLeader()) leader->onFetchOutcome(outcome, stale);
}

void Fetch::onResponseHead(const http::ResponseHead& head) {
  SharedState& shared = worker_.shared();
  const RuntimeConfig& config = *params_.config;
  const WallTime response_time = shared.clock().wallNow();
  if (origin_index_ < params_.service->origin_ttfb.size()) {
    const std::chrono::duration<double> ttfb = shared.clock().monoNow() - origin_start_;
    params_.service->origin_ttfb[origin_index_]->observe(ttfb.count());
  }

  if (params_.stale && head.status == 304) {
    cache::ObjectMeta meta = params_.stale->meta();
    cache::updateFromNotModified(meta, head, request_time_, response_time, config.policy);
    liftXCache(meta);
    auto refreshed = std::make_shared<storage::CachedObject>(std::move(meta), params_.stale->body());
    auto secondary = cache::secondaryKey(refreshed->meta().vary_names, request_.fields);
    if (secondary) storeObject(*secondary, refreshed);
    publish(CoalescedOutcome{CoalescedOutcome::Kind::kObject, refreshed, secondary.value_or(""), 0},
            false);
    return;  // the exchange completes on its own (a 304 has no body)
  }
  if (params_.stale && head.status >= 500 &&
      cache::mayServeStaleOnError(params_.stale->meta(), cache::parseCacheControl(request_.fields),
                                  response_time, config.policy)) {
    shared.stats().stale_on_error.fetch_add(1, std::memory_order_relaxed);
    publish(staleOutcome(), true);
    exchange_->abort();
    done();
    return;
  }

  const cache::CacheControl request_cc = cache::parseCacheControl(request_.fields);
  const cache::CacheControl response_cc = cache::parseCacheControl(head.fields);
  cache::StoreVerdict verdict =
      cache::decideStore(request_, head, request_cc, response_cc, config.policy);
  const bool too_big = head.framing == http::BodyFraming::kContentLength &&
                       head.content_length > config.max_object_bytes;
  std::optional<std::string> secondary;
  cache::ObjectMeta meta;
  if (verdict == cache::StoreVerdict::kStore) {
    meta = cache::makeObjectMeta(request_, head, response_cc, request_time_, response_time,
                                 config.policy);
    secondary = cache::secondaryKey(meta.vary_names, request_.fields);
  }
  if (verdict != cache::StoreVerdict::kStore || !secondary || too_big) {
    // Uncacheable: later requests skip coalescing for a while (hit-for-pass), except for
    // server errors, which are usually transient.
    if (head.status < 500) {
      shared.coalescer().markHitForPass(params_.primary_key,
                                        response_time + Seconds{config.policy.hit_for_pass});
    }
    publish(CoalescedOutcome{CoalescedOutcome::Kind::kUncacheable, nullptr, {}, 0}, false);
    if (Transaction* leader = liveLeader()) {
      exchange_->setListener(*leader);
      leader->adoptPassExchange(std::move(exchange_), head);
    } else {
      exchange_->abort();
    }
    done();
    return;
  }
  liftXCache(meta);
  secondary_key_ = std::move(*secondary);
  const uint64_t expected = head.framing == http::BodyFraming::kContentLength ? head.content_length : 0;
  object_ = std::make_shared<storage::CachedObject>(std::move(meta),
                                                    std::make_shared<storage::Body>(expected));
  stored_ = storeObject(secondary_key_, object_);
  charge_noted_ = object_->chargedBytes();  // what the store charged at insert
  publish(CoalescedOutcome{CoalescedOutcome::Kind::kObject, object_, secondary_key_, 0}, false);
  if (head.framing == http::BodyFraming::kNone) object_->body()->finish();
}

bool Fetch::storeObject(const std::string& secondary, const storage::ObjectRef& object) {
  SharedState& shared = worker_.shared();
  // A purge since this fetch began fences it: the response may predate the purge, so it is
  // delivered to those who asked before the purge but never stored.
  const bool stored = shared.coalescer().storeIfCurrent(params_.primary_key, params_.flight, [&] {
    shared.store().insert(params_.primary_key, secondary, object);
  });
  if (!stored) shared.stats().purged_in_flight.fetch_add(1, std::memory_order_relaxed);
  return stored;
}

void Fetch::onResponseData(std::string_view data) {
  if (!object_) return;
  object_->body()->append(data);
  body_bytes_ += data.size();
  // Tell the tiers whenever the object's charge changed (a new body chunk: geometric sizes,
  // so rare), so each keeps its byte bound and drops what outgrew its limit. Every change
  // counts: an object charged only at insert (empty body) would let a tier hold many times
  // its size.
  const size_t charged = object_->chargedBytes();
  if (stored_ && charged != charge_noted_) {
    charge_noted_ = charged;
    worker_.shared().store().noteGrowth(object_.get(), charged);
  }
  if (stored_ && body_bytes_ > params_.config->max_object_bytes) {
    // Grew past the memory tier's limit: stop offering it to new readers; current readers
    // still get every byte.
    worker_.shared().store().eraseIf(params_.primary_key, secondary_key_, object_.get());
    stored_ = false;
  }
}

void Fetch::onResponseComplete() {
  if (object_ && object_->body()->state() == storage::Body::State::kFilling) object_->body()->finish();
  done();
}

void Fetch::onExchangeError(const Error& error, bool response_started) {
  SharedState& shared = worker_.shared();
  if (!response_started || !object_) {
    const WallTime now = shared.clock().wallNow();
    if (params_.stale && cache::mayServeStaleOnError(params_.stale->meta(),
                                                     cache::parseCacheControl(request_.fields), now,
                                                     params_.config->policy)) {
      shared.stats().stale_on_error.fetch_add(1, std::memory_order_relaxed);
      publish(staleOutcome(), true);
    } else {
      publish(CoalescedOutcome{CoalescedOutcome::Kind::kError, nullptr, {},
                               statusForOriginError(error)},
              false);
    }
  } else {
    // Truncated mid-body: never served again, never kept.
    shared.stats().truncated_origin_bodies.fetch_add(1, std::memory_order_relaxed);
    object_->body()->fail();
    if (stored_) shared.store().eraseIf(params_.primary_key, secondary_key_, object_.get());
    stored_ = false;
  }
  done();
}

void Fetch::done() {
  if (!running_) return;
  running_ = false;
  // Deferred: we may be inside our exchange's callback.
  std::shared_ptr<Fetch> self = shared_from_this();
  worker_.fetchDone(self);
  // Only `self` is captured (fits std::function's inline storage: no allocation); the exchange
  // goes with the fetch, or at the latest with it, after this round.
  worker_.loop().defer([self = std::move(self)]() mutable { self.reset(); });
}

void Fetch::abortForShutdown() {
  if (exchange_) exchange_->abort();
  if (object_ && object_->body()->state() == storage::Body::State::kFilling) {
    object_->body()->fail();
    if (stored_) worker_.shared().store().eraseIf(params_.primary_key, secondary_key_, object_.get());
  }
  publish(CoalescedOutcome{CoalescedOutcome::Kind::kError, nullptr, {}, 503}, false);
  running_ = false;
  exchange_.reset();
}

}  // namespace ec::proxy
