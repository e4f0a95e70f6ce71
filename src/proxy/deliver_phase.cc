// Deliver phase: answering from an object (a hit, a coalesced wait, or the leader's own miss
// read while it is written): client conditionals, ranges, Age, X-Cache, and streaming the body
// as it arrives.
#include <charconv>
#include <cinttypes>
#include <cstring>

#include "base/strings.h"
#include "cache/conditional.h"
#include "cache/freshness.h"
#include "cache/range.h"
#include "cache/x_cache.h"
#include "http/date.h"
#include "http/serializer.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"

namespace ec::proxy {
namespace {

constexpr uint64_t kUnknownEnd = UINT64_MAX;

std::string_view dispositionName(Disposition disposition) {
  switch (disposition) {
    case Disposition::kHit: return "hit";
    case Disposition::kMiss: return "miss";
    case Disposition::kPass: return "pass";
    case Disposition::kInt: return "int";
    case Disposition::kHitLocal: return "hit";
  }
  return "int";
}

void appendNumber(std::string& out, uint64_t value) {
  // From the last digit back: Age and Content-Length are short, this beats to_chars' length
  // computation for them.
  char digits[20];
  char* first = digits + sizeof digits;
  do {
    *--first = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  out.append(first, static_cast<size_t>(digits + sizeof digits - first));
}

// "<prefix><value><suffix>" in one append (a head line with a number: Age, Content-Length).
template <size_t P, size_t S>
void appendNumberLine(std::string& out, const char (&prefix)[P], uint64_t value,
                      const char (&suffix)[S]) {
  char line[P + S + 20];
  char* const end = line + sizeof line;
  char* first = end - (S - 1);
  std::memcpy(first, suffix, S - 1);
  do {
    *--first = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  first -= P - 1;
  std::memcpy(first, prefix, P - 1);
  out.append(first, static_cast<size_t>(end - first));
}

// The stored head without the named field (for multipart answers, whose parts carry it).
std::string headWithout(std::string_view head, std::string_view field) {
  std::string out;
  cache::forEachStoredField(head, [&](std::string_view line, std::string_view name, std::string_view) {
    if (!equalsIgnoreCase(name, field)) {
      out.append(line);
      out.append("\r\n");
    }
  });
  return out;
}

// Where the field line `name` (lowercase) starts in a head being built ("Status line\r\nA:
// b\r\n..."), or npos. Used only over TLS with HSTS configured.
size_t findFieldLine(std::string_view out, std::string_view name) {
  size_t line = out.find('\n');
  while (line != std::string_view::npos && line + 1 < out.size()) {
    ++line;
    const std::string_view rest = out.substr(line);
    if (rest.size() > name.size() && rest[name.size()] == ':' &&
        equalsIgnoreCase(rest.substr(0, name.size()), name)) {
      return line;
    }
    line = out.find('\n', line);
  }
  return std::string_view::npos;
}

std::string_view storedContentType(std::string_view head) {
  std::string_view type;
  cache::forEachStoredField(head, [&](std::string_view, std::string_view name, std::string_view value) {
    if (type.empty() && equalsIgnoreCase(name, "content-type")) type = value;
  });
  return type;
}

}  // namespace

void Transaction::appendXCacheFields(std::string& out, std::string_view upstream_x_cache,
                                     Disposition disposition) {
  x_cache_disposition_ = disposition;
  x_cache_sent_ = true;
  // HSTS rides along with X-Cache: every answer over TLS for a service that asks for it. An
  // origin's own field (already in `out`, with the head) wins unless the service says ours does.
  if (service_ != nullptr && !service_->hsts_line.empty() && connection_.secure()) {
    size_t line = findFieldLine(out, "strict-transport-security");
    if (line == std::string::npos) {
      out += service_->hsts_line;
    } else if (service_->hsts_replaces_origin) {
      while (line != std::string::npos) {
        out.erase(line, out.find('\n', line) + 1 - line);
        line = findFieldLine(out, "strict-transport-security");
      }
      out += service_->hsts_line;
    }
  }
  if (upstream_x_cache.empty()) {
    // The common case (this node is the first layer): the lines are fixed per node.
    out += config_->x_cache_lines[static_cast<size_t>(disposition)];
    return;
  }
  std::string x_cache =
      cache::appendXCache(upstream_x_cache, config_->node_name, dispositionName(disposition));
  if (disposition == Disposition::kHitLocal) {
    x_cache = cache::appendXCache(x_cache, config_->node_name, "miss");
  }
  x_cache_value_ = x_cache;
  x_cache_status_ = cache::xCacheStatus(x_cache);  // a static string
  out += "X-Cache: ";
  out += x_cache;
  out += "\r\nX-Cache-Status: ";
  out += x_cache_status_;
  out += "\r\n";
}

void Transaction::deliverObject(storage::ObjectRef object, Disposition disposition,
                                CacheResult /*result*/) {
  if (finished_) return;
  const cache::ObjectMeta& meta = object->meta();
  const WallTime now = worker_.wallNow();
  const int64_t age = cache::currentAge(meta, now);
  body_ = object->body();
  object_ = std::move(object);
  const bool complete = body_->state() == storage::Body::State::kComplete;
  const bool head_only = head_.method == http::Method::kHead;

  std::string out = connection_.output().takeBuffer();
  // Room for a small body too: the output queue copies it behind the head (one send).
  const uint64_t inline_body = complete && body_->available() <= OutputQueue::kInlineBodyBytes
                                   ? body_->available() : 0;
  out.reserve(meta.head.size() + 256 + inline_body);
  auto appendCommon = [&](std::string_view stored_head) {
    out += stored_head;
    appendNumberLine(out, "Age: ", static_cast<uint64_t>(std::max<int64_t>(age, 0)), "\r\n");
    appendXCacheFields(out, meta.upstream_x_cache, disposition);
    if (!head_.keep_alive || connection_.closing()) out += "Connection: close\r\n";
  };

  // Client conditionals first (RFC 9110 §13.2.2), answered from the stored validators.
  const cache::ConditionalResult conditional = cache::evaluateConditional(head_, meta);
  if (conditional != cache::ConditionalResult::kNone && meta.status == 200) {
    const int status = conditional == cache::ConditionalResult::kNotModified ? 304 : 412;
    http::appendStatusLine(out, status);
    appendCommon(meta.head);
    if (status == 412) out += "Content-Length: 0\r\n";
    out += "\r\n";
    noteStatus(status);
    connection_.output().appendOwned(std::move(out));
    body_end_ = 0;
    finishDelivery();
    return;
  }

  // Ranges: from complete objects, or from an object still arriving when its length is known
  // (a single range then streams as its bytes arrive; several wait for nothing and get 200).
  const std::optional<std::string_view> range = head_.fields.get("range");
  const bool size_known = complete || meta.content_length >= 0;
  if (range && size_known && meta.status == 200 && head_.method == http::Method::kGet &&
      cache::ifRangeMatches(head_, meta)) {
    const uint64_t size = complete ? body_->available() : static_cast<uint64_t>(meta.content_length);
    cache::RangePlan plan = cache::planRanges(*range, size, config_->policy.max_ranges);
    if (plan.kind == cache::RangePlan::kMultiple && !complete) plan.kind = cache::RangePlan::kIgnore;
    if (plan.kind == cache::RangePlan::kUnsatisfiable) {
      http::appendStatusLine(out, 416);
      appendCommon(headWithout(meta.head, "content-type"));
      out += "Content-Range: " + cache::unsatisfiedContentRangeValue(size) + "\r\n";
      out += "Content-Length: 0\r\n\r\n";
      noteStatus(416);
      connection_.output().appendOwned(std::move(out));
      finishDelivery();
      return;
    }
    if (plan.kind == cache::RangePlan::kSingle) {
      const cache::ByteRange r = plan.ranges.front();
      http::appendStatusLine(out, 206);
      appendCommon(meta.head);
      out += "Content-Range: " + cache::contentRangeValue(r, size) + "\r\n";
      out += "Content-Length: ";
      appendNumber(out, r.length());
      out += "\r\n\r\n";
      noteStatus(206);
      connection_.output().appendOwned(std::move(out));
      body_offset_ = r.first;
      body_end_ = r.last + 1;
      streamBody();
      return;
    }
    if (plan.kind == cache::RangePlan::kMultiple) {
      const std::string boundary = cache::multipartBoundary(
          std::hash<std::string>{}(primary_key_) ^ static_cast<uint64_t>(now.time_since_epoch().count()));
      const std::string_view content_type = storedContentType(meta.head);
      http::appendStatusLine(out, 206);
      appendCommon(headWithout(meta.head, "content-type"));
      out += "Content-Type: " + cache::multipartContentType(boundary) + "\r\n";
      out += "Content-Length: ";
      appendNumber(out, cache::multipartBodyLength(plan, boundary, content_type, size));
      out += "\r\n\r\n";
      noteStatus(206);
      OutputQueue& output = connection_.output();
      output.appendOwned(std::move(out));
      for (const cache::ByteRange& r : plan.ranges) {
        output.appendOwned(cache::multipartPartHeader(boundary, content_type, r, size));
        output.appendBody(body_, r.first, r.length());
        response_body_bytes_ += r.length();
      }
      output.appendOwned(cache::multipartTrailer(boundary));
      finishDelivery();
      return;
    }
  }

  // The whole object, possibly still arriving.
  http::appendStatusLine(out, meta.status);
  noteStatus(meta.status);
  appendCommon(meta.head);
  const bool bodyless_status = meta.status == 204 || meta.status == 304 || meta.status < 200;
  bool terminated = false;  // the empty line that ends the head is out already
  if (complete || meta.content_length >= 0) {
    body_end_ = complete ? body_->available() : static_cast<uint64_t>(meta.content_length);
    if (!bodyless_status) {
      appendNumberLine(out, "Content-Length: ", body_end_, "\r\n\r\n");
      terminated = true;
    }
  } else if (head_.version == http::Version::kHttp11) {
    body_end_ = kUnknownEnd;
    if (!head_only) {
      out += "Transfer-Encoding: chunked\r\n";
      chunked_out_ = true;
    }
  } else {
    body_end_ = kUnknownEnd;
    close_delimited_out_ = !head_only;
  }
  if (!terminated) out += "\r\n";
  connection_.output().appendOwned(std::move(out));
  if (head_only || bodyless_status) {
    body_end_ = 0;
    finishDelivery();
    return;
  }
  body_offset_ = 0;
  streamBody();
}

void Transaction::streamBody() {
  pumpBody();
  if (!finished_ && body_ && !subscribed_) {
    aliveToken();
    if (!wake_pending_) wake_pending_ = std::make_shared<std::atomic<bool>>(false);
    subscribed_ = true;
    body_->subscribe(this);
    pumpBody();  // bytes that arrived between the first pump and the subscription
  }
}

void Transaction::pumpBody() {
  if (finished_ || !body_) return;
  OutputQueue& output = connection_.output();
  const uint64_t available = std::min(body_->available(), body_end_);
  if (available > body_offset_ && output.queuedBytes() < ClientConnection::kHighWatermark) {
    const uint64_t length = available - body_offset_;
    response_body_bytes_ += length;
    if (chunked_out_) {
      char size_line[32];
      const int n = std::snprintf(size_line, sizeof size_line, "%" PRIx64 "\r\n", length);
      output.appendOwned(std::string(size_line, static_cast<size_t>(n)));
      output.appendBody(body_, body_offset_, length);
      output.appendOwned("\r\n");
    } else {
      output.appendBody(body_, body_offset_, length);
    }
    body_offset_ = available;
    connection_.flush();
    if (finished_) return;
  }
  const storage::Body::State state = body_->state();
  if (state == storage::Body::State::kFailed) {
    // The origin broke off: the client must not take a truncated body for a whole one.
    recordCompletion();
    finished_ = true;
    connection_.abortNow();
    return;
  }
  const bool all_sent = body_end_ != kUnknownEnd ? body_offset_ >= body_end_
                                                 : (state == storage::Body::State::kComplete &&
                                                    body_offset_ >= body_->available());
  if (all_sent) {
    if (chunked_out_) output.appendOwned("0\r\n\r\n");
    finishDelivery();
  }
}

void Transaction::onBodyProgress() {
  if (wake_pending_->exchange(true)) return;  // a wake-up is already on its way
  std::weak_ptr<bool> alive = alive_;
  worker_.loop().post([this, alive, pending = wake_pending_] {
    pending->store(false);
    if (!alive.expired()) pumpBody();
  });
}

void Transaction::onWritable() {
  if (finished_) return;
  if (body_) pumpBody();
  if (pass_exchange_ && pass_paused_ &&
      connection_.output().queuedBytes() < connection_.outputHighWatermark() / 2) {
    pass_paused_ = false;
    pass_exchange_->resumeReading();
  }
}

void Transaction::finishDelivery() {
  if (subscribed_ && body_) {
    body_->unsubscribe(this);
    subscribed_ = false;
  }
  finish(!close_delimited_out_ && head_.keep_alive);
}

void Transaction::respondSynthetic(int status, std::string_view body, Disposition disposition,
                                   std::string_view location) {
  if (finished_) return;
  std::string out;
  http::appendStatusLine(out, status);
  if (!location.empty()) {
    out += "Location: ";
    out += location;
    out += "\r\n";
  }
  http::appendDateLine(out, worker_.wallNow());
  out += "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ";
  appendNumber(out, body.size());
  out += "\r\n";
  appendXCacheFields(out, {}, disposition);
  const bool keep_alive = head_.keep_alive;
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (head_.method != http::Method::kHead) {
    out += body;
    response_body_bytes_ += body.size();
  }
  noteStatus(status);
  connection_.output().appendOwned(std::move(out));
  finish(keep_alive);
}

void Transaction::respondOriginFailure(int status) {
  worker_.shared().stats().origin_unavailable.fetch_add(1, std::memory_order_relaxed);
  respondSynthetic(status, status == 504 ? "The origin did not answer in time.\n"
                                         : "The origin could not be reached.\n");
}

void Transaction::noteStatus(int status) {
  // Counted when the head is queued, before the client can see the response, so a scrape
  // right after a response always includes it.
  if (response_status_ == 0) first_byte_time_ = worker_.monoNow();
  response_status_ = status;
  worker_.shared().stats().countStatus(status);
}

void Transaction::finish(bool keep_alive) {
  if (finished_) return;
  finished_ = true;
  recordCompletion();  // before the connection recycles the request head
  connection_.transactionFinished(keep_alive);
  // This transaction is kept (retired) until the connection's next one finishes: it must not
  // pin the object meanwhile; the output queue holds what it still has to send.
  object_.reset();
  body_.reset();
}

}  // namespace ec::proxy
