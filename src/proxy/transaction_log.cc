// The end of a transaction: one access log record (accesslog/) and the latency histograms
// (service_metrics.h). Runs once per transaction, on its worker, while the request head and
// the object are still in hand; the record holds views only and is rendered at once.
#include "accesslog/access_log.h"
#include "base/strings.h"
#include "cache/freshness.h"
#include "observe/metric.h"
#include "proxy/client_connection.h"
#include "proxy/service_metrics.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "tls/tls_transport.h"

namespace ec::proxy {
namespace {

double secondsBetween(MonoTime from, MonoTime to) {
  const std::chrono::duration<double> elapsed = to - from;
  return elapsed.count() > 0 ? elapsed.count() : 0.0;
}

}  // namespace

void Transaction::countResult(CacheResult result) {
  cache_result_ = result;
  worker_.shared().stats().countResult(result);
}

void Transaction::noteOriginStart(const upstream::OriginSettings* origin) {
  origin_index_ = static_cast<int>(origin - service_->origins.data());
  origin_start_time_ = worker_.shared().clock().monoNow();
}

void Transaction::noteOriginHead() {
  if (origin_index_ < 0) return;
  const auto index = static_cast<size_t>(origin_index_);
  origin_index_ = -1;
  if (service_ == nullptr || index >= service_->origin_ttfb.size()) return;
  service_->origin_ttfb[index]->observe(
      secondsBetween(origin_start_time_, worker_.shared().clock().monoNow()));
}

void Transaction::recordCompletion() {
  if (recorded_) return;
  recorded_ = true;
  SharedState& shared = worker_.shared();
  const MonoTime now = worker_.monoNow();
  const bool head_sent = response_status_ != 0;
  const double ttfb = head_sent ? secondsBetween(start_time_, first_byte_time_) : 0.0;
  if (head_sent && service_ != nullptr && service_->metrics) {
    const int status_class = response_status_ / 100;
    service_->metrics->clientTtfb(cache_result_, status_class).observe(ttfb);
    service_->metrics->clientTotal(cache_result_, status_class).observe(secondsBetween(start_time_, now));
  }

  accesslog::AccessLog* log = shared.accessLog();
  if (log == nullptr) return;
  if (head_.method == http::Method::kPurge && !log->options().log_purges) return;

  accesslog::AccessRecord record;
  record.hostname = config_->node_name;
  record.dt_epoch_seconds = worker_.wallNow().time_since_epoch().count();
  record.time_firstbyte = ttfb;
  record.ip = connection_.peerIp();
  record.http_status = response_status_;
  record.response_size = response_body_bytes_;
  record.http_method = head_.method_text;
  record.uri_host = head_.authority;
  const std::string_view target = head_.path;
  const size_t query = target.find('?');
  record.uri_path = target.substr(0, query);
  if (query != std::string_view::npos) record.uri_query = target.substr(query);
  const http::Fields& fields = head_.fields;
  record.referer = fields.get("referer").value_or(std::string_view());
  record.user_agent = fields.get("user-agent").value_or(std::string_view());
  record.accept_language = fields.get("accept-language").value_or(std::string_view());
  record.range = fields.get("range").value_or(std::string_view());
  record.accept = fields.get("accept").value_or(std::string_view());

  // X-Cache and X-Cache-Status as sent: the node's fixed lines, or the appended chain.
  if (x_cache_sent_) {
    if (!x_cache_value_.empty()) {
      record.x_cache = x_cache_value_;
      record.cache_status = x_cache_status_;
    } else {
      const auto disposition = static_cast<size_t>(x_cache_disposition_);
      record.x_cache = config_->x_cache_values[disposition];
      record.cache_status = config_->x_cache_status_values[disposition];
    }
  }

  // Response fields: from the stored head (answers from an object), from the pass-through
  // head (copied when it arrived), or ours (synthetic answers).
  if (object_) {
    cache::forEachStoredField(object_->meta().head,
                              [&](std::string_view, std::string_view name, std::string_view value) {
                                if (equalsIgnoreCase(name, "content-type")) record.content_type = value;
                                else if (equalsIgnoreCase(name, "server")) record.backend = value;
                                else if (equalsIgnoreCase(name, "x-analytics")) record.x_analytics = value;
                              });
  } else if (pass_head_sent_) {
    record.content_type = pass_content_type_;
    record.backend = pass_backend_;
    record.x_analytics = pass_x_analytics_;
  } else if (head_sent) {
    record.content_type = "text/plain; charset=utf-8";
  }
  // "vers=TLSv1.3;keyx=X25519;auth=ECDSA;ciph=...;prot=h1;sess=new" on TLS listeners (the
  // webrequest `tls` field); "-" on plain HTTP. A reused thread-local buffer: no allocation.
  if (const tls::TlsInfo* tls_info = connection_.tlsInfo()) {
    thread_local std::string tls_field;
    tls_field.clear();
    tls_info->appendAnalyticsField(tls_field);
    if (!tls_field.empty()) record.tls = tls_field;
  }
  log->submit(record);
}

}  // namespace ec::proxy
