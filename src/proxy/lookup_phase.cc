// Lookup phase: the memory tier, then the disk tier (read off the loop, the transaction resumes
// when the head and first fragment are in), the freshness verdict, coalescing, hit-for-pass.
#include "cache/conditional.h"
#include "cache/range.h"
#include "cache/serve_decision.h"
#include "cache/vary.h"
#include "proxy/client_connection.h"
#include "proxy/fetch.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "storage/tiered_store.h"

namespace ec::proxy {

void Transaction::lookup() {
  SharedState& shared = worker_.shared();
  storage::TieredStore* tiered = shared.tiered();
  if (!tiered) {
    continueLookup(shared.store().find(primary_key_, head_.fields), Disposition::kHit);
    return;
  }
  bool pending = false;
  storage::TieredStore::Tier tier = storage::TieredStore::Tier::kNone;
  std::weak_ptr<bool> alive = aliveToken();
  net::EventLoop* loop = &worker_.loop();
  // A purge of this key while the disk read runs must not see the old object promoted.
  const uint64_t purge_mark = shared.coalescer().purgeMark(primary_key_);
  storage::ObjectRef object = tiered->findAsync(
      primary_key_, head_.fields,
      [this, alive, loop, purge_mark](storage::ObjectRef found) {
        // On an I/O thread: resume on our own loop, if we still exist.
        loop->post([this, alive, purge_mark, found = std::move(found)]() mutable {
          if (alive.expired() || finished_) return;
          if (found) {
            SharedState& state = worker_.shared();
            state.coalescer().promoteIfUnpurged(primary_key_, purge_mark, [&] {
              state.tiered()->promoteFromDisk(primary_key_, head_.fields, found);
            });
          }
          continueLookup(std::move(found), Disposition::kHitLocal);
        });
      },
      &pending, &tier, /*allow_views=*/!whole_lookup_);
  if (pending) return;  // resumed by the disk read
  continueLookup(std::move(object), Disposition::kHit);
}

void Transaction::continueLookup(storage::ObjectRef object, Disposition hit) {
  SharedState& shared = worker_.shared();
  const WallTime now = worker_.wallNow();
  if (object && object->body()->state() == storage::Body::State::kFailed) object = nullptr;
  if (object) {
    const cache::ServeDecision decision =
        cache::decideServe(object->meta(), request_cc_, now, config_->policy);
    // A disk hit read for one range answers only that range, only as is; a zero-copy one
    // (bytes mapped from the store file) only as is. Anything else (a revalidation or refresh,
    // which would store the body again; another range plan) reads the whole object privately
    // again. Rare.
    const storage::Body& body = *object->body();
    const bool as_is = decision.verdict == cache::ServeVerdict::kFresh ||
                       decision.verdict == cache::ServeVerdict::kStaleAllowed;
    if ((body.partial() && !(as_is && partialBodyServes(*object))) ||
        (body.fileBacked() && !as_is)) {
      whole_lookup_ = true;
      lookup();
      return;
    }
    switch (decision.verdict) {
      case cache::ServeVerdict::kFresh:
        countResult(CacheResult::kHit);
        deliverObject(std::move(object), hit, CacheResult::kHit);
        return;
      case cache::ServeVerdict::kStaleAllowed:
        countResult(CacheResult::kStale);
        deliverObject(std::move(object), hit, CacheResult::kStale);
        return;
      case cache::ServeVerdict::kOnlyIfCachedFail:
        respondSynthetic(504, "Not in cache (only-if-cached).\n");
        return;
      case cache::ServeVerdict::kStaleWhileRevalidate: {
        countResult(CacheResult::kStale);
        // Answer first; the refresh starts after this event, so the client never waits on it.
        Fetch::Params params = fetchParams(object);
        deliverObject(std::move(object), hit, CacheResult::kStale);
        WorkerContext& worker = worker_;
        worker_.loop().defer([&worker, params = std::move(params)]() mutable {
          startBackgroundRefresh(worker, std::move(params));
        });
        return;
      }
      case cache::ServeVerdict::kRevalidate:
        startMissFetch(std::move(object));
        return;
    }
  }
  if (request_cc_.only_if_cached) {
    respondSynthetic(504, "Not in cache (only-if-cached).\n");
    return;
  }
  if (shared.coalescer().isHitForPass(primary_key_, now)) {
    countResult(CacheResult::kPass);
    startPass();
    return;
  }
  startMissFetch(nullptr);
}

bool Transaction::partialBodyServes(const storage::CachedObject& object) const {
  const cache::ObjectMeta& meta = object.meta();
  const storage::Body& body = *object.body();
  if (meta.status != 200 || meta.content_length < 0) return false;
  // The same checks, in the same order, as deliverObject(): conditionals answer without a body.
  if (cache::evaluateConditional(head_, meta) != cache::ConditionalResult::kNone) return true;
  const std::optional<std::string_view> range = head_.fields.get("range");
  if (!range || head_.method != http::Method::kGet || !cache::ifRangeMatches(head_, meta)) {
    return false;
  }
  const cache::RangePlan plan = cache::planRanges(
      *range, static_cast<uint64_t>(meta.content_length), config_->policy.max_ranges);
  if (plan.kind == cache::RangePlan::kUnsatisfiable) return true;
  return plan.kind == cache::RangePlan::kSingle && plan.ranges.front().first >= body.base() &&
         plan.ranges.front().last < body.end();
}

Fetch::Params Transaction::fetchParams(storage::ObjectRef stale) {
  Fetch::Params params;
  params.config = config_;
  params.service = service_;
  params.primary_key = primary_key_;
  params.raw_request_head = std::string(connection_.rawHead());
  params.client_ip = connection_.peerIp();
  params.secure = connection_.secure();
  params.stale = std::move(stale);
  return params;
}

void Transaction::startBackgroundRefresh(WorkerContext& worker, Fetch::Params params) {
  SharedState& shared = worker.shared();
  // One background refresh per key: if a fetch is already running, it will refresh.
  if (shared.coalescer().join(params.primary_key, Follower{&worker.loop(), {}}, &params.flight) ==
      Coalescer::Role::kLeader) {
    shared.stats().background_refreshes.fetch_add(1, std::memory_order_relaxed);
    Fetch::start(worker, std::move(params));
  }
}

void Transaction::startMissFetch(storage::ObjectRef stale) {
  SharedState& shared = worker_.shared();
  Fetch::Params params = fetchParams(std::move(stale));
  coalesce_callback_ = std::make_shared<std::function<void(const CoalescedOutcome&)>>(
      [this](const CoalescedOutcome& outcome) { onCoalesced(outcome); });
  if (shared.coalescer().join(primary_key_, Follower{&worker_.loop(), coalesce_callback_},
                              &params.flight) == Coalescer::Role::kFollower) {
    countResult(CacheResult::kCoalesced);
    return;  // woken by onCoalesced
  }
  countResult(CacheResult::kMiss);
  params.leader = this;
  params.leader_alive = aliveToken();
  Fetch::start(worker_, std::move(params));
}

void Transaction::onFetchOutcome(const CoalescedOutcome& outcome, bool stale) {
  switch (outcome.kind) {
    case CoalescedOutcome::Kind::kObject:
      deliverObject(outcome.object, stale ? Disposition::kHit : Disposition::kMiss,
                    stale ? CacheResult::kStale : CacheResult::kMiss);
      return;
    case CoalescedOutcome::Kind::kUncacheable:
      return;  // the fetch hands its exchange over next (adoptPassExchange)
    case CoalescedOutcome::Kind::kError:
      respondOriginFailure(outcome.error_status);
      return;
  }
}

void Transaction::onCoalesced(const CoalescedOutcome& outcome) {
  coalesce_callback_.reset();
  switch (outcome.kind) {
    case CoalescedOutcome::Kind::kObject: {
      const auto mine = cache::secondaryKey(outcome.object->meta().vary_names, head_.fields);
      if (mine && *mine == outcome.secondary) {
        deliverObject(outcome.object, Disposition::kHit, CacheResult::kCoalesced);
      } else {
        lookup();  // another variant: look again (and fetch our own if need be)
      }
      return;
    }
    case CoalescedOutcome::Kind::kUncacheable:
      startPass();
      return;
    case CoalescedOutcome::Kind::kError:
      respondOriginFailure(outcome.error_status);
      return;
  }
}

}  // namespace ec::proxy
