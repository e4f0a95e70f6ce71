#include "purge/purger.h"

#include <arpa/inet.h>

#include <cstring>

#include "base/strings.h"
#include "cache/cache_key.h"

namespace ec::purge {
namespace {

// "En.Wiki.Test.:8080" -> "en.wiki.test" (the host regex sees the bare lowercase host).
std::string hostOf(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = host.substr(0, close == std::string_view::npos ? host.size() : close + 1);
  } else if (const size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return toLower(host);
}

}  // namespace

const char* purgeSourceName(PurgeSource source) {
  switch (source) {
    case PurgeSource::kHttp: return "http";
    case PurgeSource::kHtcp: return "htcp";
    case PurgeSource::kKafka: return "kafka";
    case PurgeSource::kCount: break;
  }
  return "unknown";
}

const char* rejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kForbidden: return "forbidden";
    case RejectReason::kDomainNotCached: return "domain_not_cached";
    case RejectReason::kMalformed: return "malformed";
    case RejectReason::kNotClr: return "not_clr";
    case RejectReason::kCount: break;
  }
  return "unknown";
}

Result<std::shared_ptr<const PurgeSettings>> PurgeSettings::build(
    const std::vector<std::string>& allow, const std::string& host_regex) {
  auto settings = std::make_shared<PurgeSettings>();
  auto acl = admin::AccessList::parse(allow);
  if (!acl.ok()) return fail(acl.error());
  settings->http_allow = std::move(*acl);
  if (!host_regex.empty()) {
    // std::regex reports a bad pattern by throwing: caught here, at the boundary.
    try {
      settings->host_regex.emplace(host_regex, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& error) {
      return fail(Error::internal(ErrorKind::kInvalidArgument,
                                  "purge.host_regex \"" + host_regex + "\": " + error.what()));
    }
  }
  return std::shared_ptr<const PurgeSettings>(std::move(settings));
}

Purger::Purger(storage::Store& store, Fence fence, std::shared_ptr<const PurgeSettings> settings)
    : store_(store), fence_(std::move(fence)), settings_(std::move(settings)) {}

bool Purger::allowsHttpFrom(std::string_view ip) const {
  net::SocketAddress address;
  const std::string text(ip);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    address.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    address.length = sizeof(sockaddr_in6);
  } else {
    return false;
  }
  return settings()->http_allow.allows(address);
}

Purger::Outcome Purger::purge(PurgeSource source, const PurgeTarget& target) {
  countReceived(source);
  return apply(source, target);
}

Result<Purger::Outcome> Purger::purgeUrl(PurgeSource source, std::string_view url) {
  countReceived(source);
  auto target = parsePurgeUrl(url);
  if (!target.ok()) {
    countRejected(source, RejectReason::kMalformed);
    return fail(target.error());
  }
  return apply(source, *target);
}

Purger::Outcome Purger::apply(PurgeSource source, const PurgeTarget& target) {
  const std::shared_ptr<const PurgeSettings> settings = this->settings();
  if (settings->host_regex &&
      !std::regex_search(hostOf(target.authority), *settings->host_regex)) {
    countRejected(source, RejectReason::kDomainNotCached);
    return Outcome::kDomainNotCached;
  }
  // The key as the request phase builds it, under both schemes: a plain-HTTP purge must also
  // drop what TLS clients fetched (and the other way round), as Varnish's hash ignores it.
  size_t removed = 0;
  for (std::string_view scheme : {std::string_view("http"), std::string_view("https")}) {
    const std::string key = cache::primaryKey(scheme, target.authority, target.path);
    if (fence_) fence_(key, FencePhase::kBegin);
    removed += store_.eraseAll(key);
    if (fence_) fence_(key, FencePhase::kEnd);
  }
  stats_.objects_removed.fetch_add(removed, std::memory_order_relaxed);
  bump(stats_.applied[index(source)]);
  return Outcome::kPurged;
}

}  // namespace ec::purge
