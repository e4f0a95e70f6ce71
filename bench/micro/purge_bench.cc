// purge_bench: purges applied per second on one core against a full memory tier (issue 4:
// target >= 100,000/s). Fills a MemoryStore until it evicts (full), then times, on this one
// thread, purges through the same path the channels use: Purger (URL split, host regex,
// primary key under http and https, coalescer fence, Store::eraseAll), for
//   hit      URLs that are cached (each purge removes an object)
//   miss     URLs that are not (most purges a node receives: the URL was never requested)
//   htcp     the whole HTCP path: decode a MediaWiki CLR packet, then purge (cached URLs)
//   regex    hits with purge.host_regex = ^(?!(upload|maps)\.wikimedia\.org) (std::regex)
// Bounded: at most --purges purges per case. Prints purges/s per case.
//
//   purge_bench [--memory MiB] [--body BYTES] [--purges N]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cache/cache_key.h"
#include "proxy/coalescer.h"
#include "purge/htcp_packet.h"
#include "purge/purger.h"
#include "storage/memory_store.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string urlFor(size_t i) {
  return "http://en.wikipedia.org/wiki/Article_" + std::to_string(i) + "?action=render";
}

ec::storage::ObjectRef makeObject(size_t body_size) {
  ec::cache::ObjectMeta meta;
  meta.head = "Content-Type: text/html; charset=UTF-8\r\nCache-Control: s-maxage=1209600\r\n";
  meta.content_length = static_cast<int64_t>(body_size);
  auto body = std::make_shared<ec::storage::Body>(body_size);
  body->append(std::string(body_size, 'x'));
  body->finish();
  return std::make_shared<ec::storage::CachedObject>(std::move(meta), std::move(body));
}

struct Setup {
  std::unique_ptr<ec::storage::MemoryStore> store;
  size_t first_cached = 0;  // objects [first_cached, inserted) are still cached
  size_t inserted = 0;
};

Setup fill(uint64_t memory_mib, size_t body) {
  ec::storage::MemoryStoreOptions options;
  options.capacity_bytes = memory_mib << 20;
  options.shards = 16;
  options.max_object_bytes = 1 << 20;
  Setup setup;
  setup.store = std::make_unique<ec::storage::MemoryStore>(options);
  // Insert until the tier is full and has evicted a tenth of what it holds.
  while (true) {
    const std::string url = urlFor(setup.inserted);
    const std::string key = ec::cache::primaryKey("http", "en.wikipedia.org",
                                                  url.substr(std::strlen("http://en.wikipedia.org")));
    setup.store->insert(key, "", makeObject(body));
    ++setup.inserted;
    const auto stats = setup.store->stats();
    if (stats.evictions > 0 && stats.evictions >= stats.objects / 10) break;
  }
  // Which prefix was evicted is policy business: probe from the newest down.
  setup.first_cached = setup.inserted - setup.store->stats().objects;
  return setup;
}

double perSecond(size_t count, Clock::duration elapsed) {
  return static_cast<double>(count) / std::chrono::duration<double>(elapsed).count();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t memory_mib = 256;
  size_t body = 4096;
  size_t purges = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--memory")) memory_mib = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--body")) body = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--purges")) purges = std::strtoull(argv[i + 1], nullptr, 10);
  }
  ec::proxy::Coalescer coalescer;
  auto fence = [&coalescer](const std::string& key, ec::purge::Purger::FencePhase phase) {
    if (phase == ec::purge::Purger::FencePhase::kBegin) coalescer.fence(key);
    else coalescer.fenceDone(key);
  };

  struct Case {
    const char* name;
    bool cached;
    bool htcp;
    const char* regex;
  };
  const Case cases[] = {{"hit", true, false, ""},
                        {"miss", false, false, ""},
                        {"htcp", true, true, ""},
                        {"regex", true, false, "^(?!(upload|maps)\\.wikimedia\\.org)"}};
  std::printf("purge_bench: memory %llu MiB, body %zu B, up to %zu purges per case, 1 thread\n",
              static_cast<unsigned long long>(memory_mib), body, purges);
  for (const Case& c : cases) {
    Setup setup = fill(memory_mib, body);
    const size_t objects_before = setup.store->stats().objects;
    ec::purge::Purger purger(*setup.store, fence,
                             *ec::purge::PurgeSettings::build({"127.0.0.1/32"}, c.regex));
    // Work prepared before the clock starts: URLs (or packets) of cached or never-cached
    // objects, newest first.
    const size_t count = std::min(purges, c.cached ? setup.inserted - setup.first_cached : purges);
    std::vector<std::string> inputs;
    inputs.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const size_t n = c.cached ? setup.inserted - 1 - i : setup.inserted + 1000000 + i;
      inputs.push_back(c.htcp ? ec::purge::encodeHtcpClr(static_cast<uint32_t>(i), urlFor(n))
                              : urlFor(n));
    }
    const auto start = Clock::now();
    for (const std::string& input : inputs) {
      if (c.htcp) {
        const ec::purge::HtcpDecodeResult decoded = ec::purge::decodeHtcpClr(input);
        if (decoded.ok) (void)purger.purgeUrl(ec::purge::PurgeSource::kHtcp, decoded.clr.uri);
      } else {
        (void)purger.purgeUrl(ec::purge::PurgeSource::kKafka, input);
      }
    }
    const auto elapsed = Clock::now() - start;
    const size_t removed = objects_before - setup.store->stats().objects;
    std::printf("  %-6s %8zu purges  %10.0f purges/s  %7.2f us each  (%zu of %zu objects removed)\n",
                c.name, count, perSecond(count, elapsed),
                std::chrono::duration<double, std::micro>(elapsed).count() / static_cast<double>(count),
                removed, objects_before);
  }
  return 0;
}
