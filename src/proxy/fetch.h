#pragma once
// Fetch: the origin fetch behind a cacheable miss or a revalidation. It owns its exchange and
// keeps itself alive until the response ends, so a leader whose client goes away does not
// starve the followers reading the object. When the head arrives it decides: store (publish
// the object to the coalescer's followers and the leader, then fill its body), 304 (refresh
// the stale object), stale-if-error (publish the stale object), or uncacheable (mark
// hit-for-pass, release the followers, hand the exchange to the leader for pass-through).

#include <memory>
#include <string>

#include "cache/policy_config.h"
#include "http/message.h"
#include "http/request_parser.h"
#include "proxy/coalescer.h"
#include "proxy/runtime_config.h"
#include "storage/cached_object.h"
#include "upstream/origin_exchange.h"

namespace ec::proxy {

class Transaction;
class WorkerContext;

class Fetch final : public upstream::ExchangeListener, public std::enable_shared_from_this<Fetch> {
 public:
  struct Params {
    RuntimeConfigPtr config;
    const ServiceRoute* service = nullptr;
    std::string primary_key;
    std::string raw_request_head;     // copied: the client's buffer may go away first
    std::string client_ip;
    bool secure = false;              // the client came over TLS (X-Forwarded-Proto: https)
    storage::ObjectRef stale;         // revalidate this object (conditional request)
    Transaction* leader = nullptr;    // nullptr for a background refresh
    std::weak_ptr<bool> leader_alive;
    uint64_t flight = 0;              // the coalescer flight this fetch leads
  };
  static void start(WorkerContext& worker, Params params);

  Fetch(WorkerContext& worker, Params params);
  void onResponseHead(const http::ResponseHead& head) override;
  void onResponseData(std::string_view data) override;
  void onResponseComplete() override;
  void onExchangeError(const Error& error, bool response_started) override;
  // The worker is stopping: drop the exchange, fail a filling body, release followers.
  void abortForShutdown();

 private:
  void begin();
  Transaction* liveLeader() const;
  CoalescedOutcome staleOutcome() const;
  void publish(const CoalescedOutcome& outcome, bool stale);
  void storeResponse(const http::ResponseHead& head);
  // Inserts unless a purge fenced this fetch's flight; returns whether it did.
  bool storeObject(const std::string& secondary, const storage::ObjectRef& object);
  void done();

  WorkerContext& worker_;
  Params params_;
  http::RequestHead request_;
  http::RequestParser request_parser_;
  std::unique_ptr<upstream::OriginExchange> exchange_;
  bool running_ = false;          // registered with the worker until done()
  WallTime request_time_{};
  MonoTime origin_start_{};       // for edgecache_origin_ttfb_seconds
  size_t origin_index_ = 0;
  storage::ObjectRef object_;    // being filled
  std::string secondary_key_;
  bool stored_ = false;
  bool published_ = false;
  uint64_t body_bytes_ = 0;
  size_t charge_noted_ = 0;  // the object's charge when the store last heard of it
};

}  // namespace ec::proxy
