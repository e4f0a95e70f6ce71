// Fetch phase, pass-through half: requests that are not served from cache (unsafe methods,
// hit-for-pass keys, uncacheable responses handed over by a Fetch) stream between client and
// origin with backpressure both ways; unsafe methods invalidate what they changed (§4.4).
#include <cinttypes>

#include "base/strings.h"
#include "cache/invalidation.h"
#include "http/date.h"
#include "http/serializer.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"

namespace ec::proxy {

const upstream::OriginSettings* Transaction::pickOrigin() {
  const auto& origins = service_->origins;
  return &origins[worker_.nextOriginIndex() % origins.size()];
}

void Transaction::startPass() {
  if (finished_) return;
  const upstream::OriginSettings* origin = pickOrigin();
  std::string head_bytes;
  http::ForwardOptions options;
  options.client_address = connection_.peerIp();
  options.forwarded_proto = connection_.secure() ? "https" : "http";
  http::appendOriginRequest(head_bytes, head_, options);
  const bool has_body = head_.framing == http::BodyFraming::kContentLength
                            ? head_.content_length > 0
                            : head_.framing == http::BodyFraming::kChunked;
  request_chunked_ = head_.framing == http::BodyFraming::kChunked;
  noteOriginStart(origin);
  pass_exchange_ = std::make_unique<upstream::OriginExchange>(worker_.poolFor(*origin), *this);
  pass_exchange_->start(std::move(head_bytes), head_.method, has_body);
}

void Transaction::onRequestBody(std::string_view data) {
  if (!pass_exchange_ || data.empty()) return;
  if (request_chunked_) {
    std::string chunk;
    http::appendChunk(chunk, data);
    pass_exchange_->sendBody(chunk);
  } else {
    pass_exchange_->sendBody(data);
  }
  // A slow origin must not make us hold a whole upload: stop reading the client until the
  // queued body has gone out.
  if (!request_body_paused_ &&
      pass_exchange_ && pass_exchange_->pendingOutputBytes() >= ClientConnection::kHighWatermark) {
    request_body_paused_ = true;
    connection_.pauseBody(true);
  }
}

void Transaction::onRequestBodyDrained() {
  if (!request_body_paused_) return;
  request_body_paused_ = false;
  connection_.pauseBody(false);
}

void Transaction::onRequestBodyEnd() {
  if (!pass_exchange_) return;
  if (request_chunked_) {
    std::string last;
    http::appendLastChunk(last);
    pass_exchange_->sendBody(last);
  }
  pass_exchange_->finishBody();
}

void Transaction::adoptPassExchange(std::unique_ptr<upstream::OriginExchange> exchange,
                                    const http::ResponseHead& head) {
  countResult(CacheResult::kPass);
  pass_exchange_ = std::move(exchange);
  onResponseHead(head);
}

void Transaction::onResponseHead(const http::ResponseHead& head) {
  if (finished_) return;
  noteOriginHead();
  std::string out;
  http::appendStatusLine(out, head.status);
  std::string upstream_x_cache;
  // Forward end-to-end fields only; framing is ours to decide.
  const http::Fields& fields = head.fields;
  const http::ConnectionNames connection_names(fields);
  bool has_date = false;
  for (const http::Field& field : fields.all()) {
    if (!has_date && equalsIgnoreCase(field.name, "date")) has_date = true;
    if (http::isHopByHopField(field.name) || equalsIgnoreCase(field.name, "content-length") ||
        equalsIgnoreCase(field.name, "x-cache-status")) {
      continue;
    }
    if (equalsIgnoreCase(field.name, "content-type")) pass_content_type_ = field.value;
    if (equalsIgnoreCase(field.name, "server")) pass_backend_ = field.value;
    if (equalsIgnoreCase(field.name, "x-analytics")) pass_x_analytics_ = field.value;
    if (equalsIgnoreCase(field.name, "x-cache")) {
      upstream_x_cache = std::string(field.value);
      continue;
    }
    if (connection_names.contains(field.name) && !http::isProtectedField(field.name)) {
      continue;
    }
    out += field.name;
    out += ": ";
    out += field.value;
    out += "\r\n";
  }
  if (!has_date) http::appendDateLine(out, worker_.wallNow());  // RFC 9110 §6.6.1
  appendXCacheFields(out, upstream_x_cache, Disposition::kPass);
  const bool head_only = head_.method == http::Method::kHead;
  const bool bodyless = head_only || head.status == 204 || head.status == 304;
  bool keep_alive = head_.keep_alive;
  if (!bodyless) {
    if (head.framing == http::BodyFraming::kContentLength) {
      out += "Content-Length: " + std::to_string(head.content_length) + "\r\n";
    } else if (head.framing == http::BodyFraming::kNone) {
      out += "Content-Length: 0\r\n";
    } else if (head_.version == http::Version::kHttp11) {
      out += "Transfer-Encoding: chunked\r\n";
      pass_chunked_out_ = true;
    } else {
      keep_alive = false;  // HTTP/1.0 client: the close delimits the body
    }
  } else if (head_only && head.framing == http::BodyFraming::kContentLength) {
    out += "Content-Length: " + std::to_string(head.content_length) + "\r\n";
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  noteStatus(head.status);
  close_delimited_out_ = !keep_alive;
  pass_head_sent_ = true;
  if (invalidate_on_success_) invalidateAfterUnsafe(head);
  connection_.output().appendOwned(std::move(out));
  connection_.flush();
}

void Transaction::onResponseData(std::string_view data) {
  if (finished_ || data.empty() || head_.method == http::Method::kHead) return;
  OutputQueue& output = connection_.output();
  response_body_bytes_ += data.size();
  if (pass_chunked_out_) {
    std::string chunk;
    http::appendChunk(chunk, data);
    output.appendOwned(std::move(chunk));
  } else {
    output.appendCopy(data);
  }
  connection_.flush();
  if (!finished_ && output.queuedBytes() >= connection_.outputHighWatermark() && !pass_paused_) {
    pass_paused_ = true;
    pass_exchange_->pauseReading();
  }
}

void Transaction::onResponseComplete() {
  if (finished_) return;
  if (pass_chunked_out_) {
    std::string last;
    http::appendLastChunk(last);
    connection_.output().appendOwned(std::move(last));
  }
  finish(!close_delimited_out_ && head_.keep_alive);
}

void Transaction::onExchangeError(const Error& error, bool response_started) {
  if (finished_) return;
  if (!response_started || !pass_head_sent_) {
    respondOriginFailure(error.kind == ErrorKind::kTimeout ? 504 : 502);
    return;
  }
  recordCompletion();
  finished_ = true;
  connection_.abortNow();  // a truncated body must not look complete
}

void Transaction::invalidateAfterUnsafe(const http::ResponseHead& head) {
  const std::string_view scheme = head_.scheme.empty() ? std::string_view("http") : head_.scheme;
  const auto keys = cache::invalidationKeys(head_, head.status, head.fields, scheme);
  SharedState& shared = worker_.shared();
  for (const std::string& key : keys) {
    if (shared.store().eraseAll(key) > 0) {
      shared.stats().invalidations.fetch_add(1, std::memory_order_relaxed);
    }
    shared.coalescer().clearHitForPass(key);
  }
}

}  // namespace ec::proxy
