#pragma once
// Transaction: one request's journey through the phases (docs/dev/request_lifecycle.md):
//   request_phase.cc  route to a service, method rules, the cache key
//   lookup_phase.cc   memory tier lookup, freshness verdict, coalescing, hit-for-pass
//   fetch_phase.cc    the origin fetch that fills an object (Fetch) and pass-through
//   deliver_phase.cc  answering from an object: conditionals, ranges, streaming, X-Cache
//   purge_phase.cc    HTTP PURGE: source ACL, then the purge room (every variant, every tier)
//   transaction_log.cc  at the end: the access log record and the latency histograms
// A Transaction lives on its connection's loop and is owned by its Downstream (an HTTP/1.1
// ClientConnection or an HTTP/2 stream).

#include <memory>
#include <optional>
#include <string>

#include "cache/cache_control.h"
#include "http/message.h"
#include "proxy/coalescer.h"
#include "proxy/fetch.h"
#include "proxy/proxy_stats.h"
#include "proxy/runtime_config.h"
#include "storage/body.h"
#include "storage/cached_object.h"
#include "upstream/origin_exchange.h"

namespace ec::proxy {

class Downstream;
class WorkerContext;

// How this node answered, for X-Cache ("hit", "miss", "pass", "int"). kHitLocal is a disk-tier
// hit: the node appends "<node> hit, <node> miss" (its disk layer hit, its memory layer missed),
// which X-Cache-Status reads as hit-local (reference/wikimedia-traffic.md §7).
enum class Disposition : uint8_t { kHit, kMiss, kPass, kInt, kHitLocal };

class Transaction final : public storage::BodyObserver, public upstream::ExchangeListener {
 public:
  Transaction(WorkerContext& worker, Downstream& connection, RuntimeConfigPtr config,
              const http::RequestHead& head);
  ~Transaction() override;

  void start();
  bool wantsRequestBody() const { return pass_exchange_ != nullptr; }
  void onRequestBody(std::string_view data);
  void onRequestBodyEnd();
  void onWritable();

  // storage::BodyObserver (called on the writer's thread).
  void onBodyProgress() override;
  // upstream::ExchangeListener (pass-through mode).
  void onResponseHead(const http::ResponseHead& head) override;
  void onResponseData(std::string_view data) override;
  void onResponseComplete() override;
  void onExchangeError(const Error& error, bool response_started) override;
  void onRequestBodyDrained() override;
  // The client connection closed before this transaction finished (still recorded once).
  void clientClosed() { recordCompletion(); }

  // Used by Fetch (same loop): the leader learns the outcome of its own fetch.
  void onFetchOutcome(const CoalescedOutcome& outcome, bool stale);
  // Fetch found the response uncacheable and hands over its exchange for pass-through.
  void adoptPassExchange(std::unique_ptr<upstream::OriginExchange> exchange,
                         const http::ResponseHead& head);

  WorkerContext& worker() { return worker_; }
  const RuntimeConfig& config() const { return *config_; }
  const http::RequestHead& request() const { return head_; }
  const ServiceRoute* service() const { return service_; }
  const std::string& primaryKey() const { return primary_key_; }
  const cache::CacheControl& requestCacheControl() const { return request_cc_; }

 private:
  // request_phase.cc
  void routeRequest();
  void redirectToHttps();
  // purge_phase.cc
  void handlePurge();
  void respondPurge(int status, std::string_view reason);
  // lookup_phase.cc
  void lookup();
  // After the tiers answered: freshness verdict, coalescing, hit-for-pass. `hit` is the
  // disposition a hit gets (kHit from memory, kHitLocal from disk).
  void continueLookup(storage::ObjectRef object, Disposition hit);
  // Can a disk hit read for one range (a partial() Body) answer this request as it stands?
  bool partialBodyServes(const storage::CachedObject& object) const;
  void startMissFetch(storage::ObjectRef stale);
  Fetch::Params fetchParams(storage::ObjectRef stale);
  static void startBackgroundRefresh(WorkerContext& worker, Fetch::Params params);
  void onCoalesced(const CoalescedOutcome& outcome);
  void serveStaleOrError(int status, const char* detail);
  // fetch_phase.cc (pass-through)
  void startPass();
  const upstream::OriginSettings* pickOrigin();
  // deliver_phase.cc
  void deliverObject(storage::ObjectRef object, Disposition disposition, CacheResult result);
  void streamBody();
  void pumpBody();
  void finishDelivery();
  void respondSynthetic(int status, std::string_view body, Disposition disposition = Disposition::kInt,
                        std::string_view location = {});
  // 502 (refused, reset, bad response) or 504 (timeout), counted.
  void respondOriginFailure(int status);
  void appendXCacheFields(std::string& out, std::string_view upstream_x_cache, Disposition disposition);
  void invalidateAfterUnsafe(const http::ResponseHead& head);
  void noteStatus(int status);
  void finish(bool keep_alive);
  // transaction_log.cc
  void countResult(CacheResult result);
  void recordCompletion();
  void noteOriginStart(const upstream::OriginSettings* origin);
  void noteOriginHead();

  WorkerContext& worker_;
  Downstream& connection_;
  RuntimeConfigPtr config_;
  const http::RequestHead& head_;
  const ServiceRoute* service_ = nullptr;
  std::string primary_key_;
  cache::CacheControl request_cc_;
  bool cacheable_method_ = false;
  bool finished_ = false;
  int response_status_ = 0;

  // Coalescing: followers hold this callback; the Coalescer keeps only a weak reference.
  std::shared_ptr<std::function<void(const CoalescedOutcome&)>> coalesce_callback_;
  // Created only when something outside this event needs to know whether we still exist (a
  // Fetch leader, a body wake-up): a plain hit allocates neither.
  std::shared_ptr<bool> alive_;
  const std::shared_ptr<bool>& aliveToken() {
    if (!alive_) alive_ = std::make_shared<bool>(true);
    return alive_;
  }

  // Delivering from an object (hit, or read while write).
  storage::ObjectRef object_;
  std::shared_ptr<storage::Body> body_;
  uint64_t body_offset_ = 0;
  uint64_t body_end_ = 0;           // exclusive; UINT64_MAX while unknown
  bool chunked_out_ = false;
  bool close_delimited_out_ = false;
  bool subscribed_ = false;
  bool whole_lookup_ = false;  // a partial disk hit could not serve: look up the whole object
  std::shared_ptr<std::atomic<bool>> wake_pending_;  // set before subscribing to a body

  // Pass-through.
  std::unique_ptr<upstream::OriginExchange> pass_exchange_;
  bool pass_chunked_out_ = false;
  bool pass_head_sent_ = false;
  bool pass_paused_ = false;
  bool request_chunked_ = false;
  bool request_body_paused_ = false;
  bool invalidate_on_success_ = false;

  // For the access log and the latency histograms (transaction_log.cc).
  MonoTime start_time_;
  MonoTime first_byte_time_{};
  MonoTime origin_start_time_{};
  int origin_index_ = -1;          // pass-through origin being timed, index in service origins
  CacheResult cache_result_ = CacheResult::kInternal;
  Disposition x_cache_disposition_ = Disposition::kInt;
  bool recorded_ = false;
  bool x_cache_sent_ = false;      // X-Cache went out (not on PURGE answers)
  uint64_t response_body_bytes_ = 0;
  std::string x_cache_value_;      // only when an upstream X-Cache came along
  std::string_view x_cache_status_;
  std::string pass_content_type_;  // pass-through response fields (the head is not kept)
  std::string pass_backend_;
  std::string pass_x_analytics_;
};

}  // namespace ec::proxy
