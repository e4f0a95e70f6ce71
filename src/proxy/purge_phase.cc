// Purge phase: HTTP PURGE (origin-form with Host, or absolute-form, as MediaWiki sends it).
// Only sources in purge.allow may purge (others get 405, as Varnish and ATS answer); the purge
// room then drops every variant of the URL, keyed exactly as a GET for it would be, in every
// tier. Answers 204 "Purged", or 204 "Domain not cached here" for hosts outside
// purge.host_regex. No X-Cache on purge answers (wikimedia-traffic.md §1.4).
#include "http/message.h"
#include "proxy/client_connection.h"
#include "proxy/transaction.h"
#include "proxy/worker_context.h"
#include "purge/purger.h"

namespace ec::proxy {

void Transaction::handlePurge() {
  countResult(CacheResult::kInternal);
  purge::Purger* purger = worker_.shared().purger();
  if (purger == nullptr) {
    respondSynthetic(405, "PURGE is not enabled on this node.\n");
    return;
  }
  if (!purger->allowsHttpFrom(connection_.peerIp())) {
    purger->countReceived(purge::PurgeSource::kHttp);
    purger->countRejected(purge::PurgeSource::kHttp, purge::RejectReason::kForbidden);
    respondSynthetic(405, "PURGE is not allowed from this address.\n");
    return;
  }
  const std::string_view scheme = head_.scheme.empty() ? std::string_view("http") : head_.scheme;
  const purge::Purger::Outcome outcome =
      purger->purge(purge::PurgeSource::kHttp, purge::PurgeTarget{scheme, head_.authority, head_.path});
  respondPurge(204, outcome == purge::Purger::Outcome::kPurged ? "Purged" : "Domain not cached here");
}

void Transaction::respondPurge(int status, std::string_view reason) {
  if (finished_) return;
  std::string out = "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += reason;
  out += "\r\n";
  const bool keep_alive = head_.keep_alive;
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  noteStatus(status);
  connection_.output().appendOwned(std::move(out));
  finish(keep_alive);
}

}  // namespace ec::proxy
