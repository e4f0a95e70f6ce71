// Request phase: route the request to a service, apply method rules and build the cache key.
#include "cache/cache_key.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"

namespace ec::proxy {

Transaction::Transaction(WorkerContext& worker, Downstream& connection,
                         RuntimeConfigPtr config, const http::RequestHead& head)
    : worker_(worker),
      connection_(connection),
      config_(std::move(config)),
      head_(head),
      primary_key_(worker.takeKeyBuffer()),
      start_time_(worker.monoNow()) {}

Transaction::~Transaction() {
  if (subscribed_ && body_) body_->unsubscribe(this);
  if (pass_exchange_) pass_exchange_->abort();
  worker_.giveBackKeyBuffer(std::move(primary_key_));
}

void Transaction::start() { routeRequest(); }

void Transaction::routeRequest() {
  if (head_.authority.empty()) {
    // HTTP/1.0 without Host: a reverse proxy keys and routes by host, so it needs one.
    countResult(CacheResult::kInternal);
    respondSynthetic(400, "A Host header is required.\n");
    return;
  }
  if (head_.method == http::Method::kPurge) {
    // Before routing: a purge for a host this node does not serve is answered by the purge
    // room (204 "Domain not cached here" or a no-op), not 421.
    handlePurge();
    return;
  }
  // Over TLS the key says https whatever the request line claims: origins see
  // X-Forwarded-Proto and may answer differently per scheme.
  const std::string_view scheme = connection_.secure() ? std::string_view("https")
                                  : head_.scheme.empty() ? std::string_view("http")
                                                         : head_.scheme;
  const WorkerContext::HostMemo& host = worker_.routeHost(config_, scheme, head_.authority);
  service_ = host.service;
  if (service_ == nullptr || service_->origins.empty()) {
    countResult(CacheResult::kInternal);
    respondSynthetic(421, "No service is configured for this host.\n");
    return;
  }
  if (service_->https_redirect && !connection_.secure()) {
    redirectToHttps();
    return;
  }
  switch (head_.method) {
    case http::Method::kGet:
    case http::Method::kHead:
      cacheable_method_ = true;
      break;
    case http::Method::kTrace:
    case http::Method::kConnect:
      countResult(CacheResult::kInternal);
      respondSynthetic(405, "Method not allowed.\n");
      return;
    default:
      break;
  }
  primary_key_.assign(host.key_origin);
  cache::appendKeyTarget(primary_key_, head_.path);
  // A GET or HEAD with a body ("fat GET") is forwarded with its body and never cached: the
  // body is not part of the key, so caching it would be a poisoning vector.
  if (cacheable_method_ && head_.framing != http::BodyFraming::kNone &&
      !(head_.framing == http::BodyFraming::kContentLength && head_.content_length == 0)) {
    cacheable_method_ = false;
  }
  if (!cacheable_method_) {
    invalidate_on_success_ = !http::isSafeMethod(head_.method);
    countResult(CacheResult::kPass);
    startPass();
    return;
  }
  request_cc_ = cache::parseCacheControl(head_.fields);
  lookup();
}

void Transaction::redirectToHttps() {
  worker_.shared().stats().countResult(CacheResult::kInternal);
  const bool safe = head_.method == http::Method::kGet || head_.method == http::Method::kHead;
  worker_.shared().stats().https_redirects[safe ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
  if (!safe) {
    // A redirected POST would be replayed as GET by many clients, or its body sent twice.
    respondSynthetic(403, "This site is served over HTTPS only.\n");
    return;
  }
  std::string location = "https://";
  location += hostOnly(head_.authority);
  location += service_->https_port_suffix;
  location += head_.path.empty() ? std::string_view("/") : head_.path;
  respondSynthetic(301, "Moved to HTTPS.\n", Disposition::kInt, location);
}

}  // namespace ec::proxy
