#include "purge/purger.h"

#include <gtest/gtest.h>

#include "cache/cache_key.h"
#include "http/fields.h"
#include "storage/memory_store.h"

namespace ec::purge {
namespace {

storage::ObjectRef makeObject(std::vector<std::string> vary_names = {}) {
  cache::ObjectMeta meta;
  meta.head = "Content-Type: text/plain\r\n";
  meta.vary_names = std::move(vary_names);
  meta.content_length = 2;
  auto body = std::make_shared<storage::Body>(2);
  body->append("ok");
  body->finish();
  return std::make_shared<storage::CachedObject>(std::move(meta), std::move(body));
}

std::shared_ptr<const PurgeSettings> settings(std::vector<std::string> allow = {"127.0.0.1/32", "::1/128"},
                                              std::string regex = "") {
  auto built = PurgeSettings::build(allow, regex);
  EXPECT_TRUE(built.ok());
  return *built;
}

class PurgerTest : public ::testing::Test {
 protected:
  PurgerTest() : store_(options()), purger_(store_, [this](const std::string& key, Purger::FencePhase phase) {
          if (phase == Purger::FencePhase::kBegin) fenced_.push_back(key);
          else done_.push_back(key);
        }, settings()) {}
  static storage::MemoryStoreOptions options() {
    storage::MemoryStoreOptions o;
    o.capacity_bytes = 1 << 20;
    o.shards = 4;
    o.max_object_bytes = 1 << 16;
    return o;
  }
  bool cached(std::string_view key, const http::Fields& request = {}) {
    return store_.find(key, request) != nullptr;
  }
  storage::MemoryStore store_;
  std::vector<std::string> fenced_;
  std::vector<std::string> done_;
  Purger purger_;
};

TEST_F(PurgerTest, RemovesEveryVariantUnderTheKeyAClientRequestBuilds) {
  // Stored as a client request keys it: mixed case host, default port, escaped unreserved.
  const std::string key = cache::primaryKey("http", "En.Wiki.Test:80", "/wiki/%46oo");
  store_.insert(key, "gzip", makeObject({"accept-encoding"}));
  store_.insert(key, "br", makeObject({"accept-encoding"}));
  store_.insert(cache::primaryKey("http", "en.wiki.test", "/wiki/Bar"), "", makeObject());
  ASSERT_EQ(store_.stats().objects, 3u);

  auto outcome = purger_.purgeUrl(PurgeSource::kHtcp, "http://en.wiki.test/wiki/Foo");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, Purger::Outcome::kPurged);
  EXPECT_EQ(store_.stats().objects, 1u);  // both variants of Foo gone, Bar kept
  EXPECT_EQ(purger_.stats().received[1].load(), 1u);
  EXPECT_EQ(purger_.stats().applied[1].load(), 1u);
  EXPECT_EQ(purger_.stats().objects_removed.load(), 2u);
}

TEST_F(PurgerTest, PurgesBothSchemesAndFencesEachKey) {
  store_.insert(cache::primaryKey("https", "en.wiki.test", "/a"), "", makeObject());
  store_.insert(cache::primaryKey("http", "en.wiki.test", "/a"), "", makeObject());
  purger_.purge(PurgeSource::kHttp, PurgeTarget{"http", "en.wiki.test", "/a"});
  EXPECT_EQ(store_.stats().objects, 0u);
  ASSERT_EQ(fenced_.size(), 2u);
  EXPECT_EQ(fenced_[0], "http://en.wiki.test/a");
  EXPECT_EQ(fenced_[1], "https://en.wiki.test/a");
  EXPECT_EQ(done_, fenced_);
}

TEST_F(PurgerTest, AQueryIsPartOfTheKey) {
  store_.insert(cache::primaryKey("http", "w.test", "/w/index.php?title=Foo&action=raw"), "", makeObject());
  store_.insert(cache::primaryKey("http", "w.test", "/w/index.php"), "", makeObject());
  ASSERT_TRUE(purger_.purgeUrl(PurgeSource::kKafka, "http://w.test/w/index.php?title=Foo&action=raw").ok());
  EXPECT_EQ(store_.stats().objects, 1u);
  EXPECT_TRUE(cached(cache::primaryKey("http", "w.test", "/w/index.php")));
}

TEST_F(PurgerTest, HostsOutsideTheRegexAreNotCachedHere) {
  purger_.setSettings(settings({"127.0.0.1/32"}, "^(?!(upload|maps)\\.wikimedia\\.org)"));
  const std::string key = cache::primaryKey("http", "upload.wikimedia.org", "/x.png");
  store_.insert(key, "", makeObject());
  auto outcome = purger_.purgeUrl(PurgeSource::kHtcp, "http://Upload.Wikimedia.Org:80/x.png");
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(*outcome, Purger::Outcome::kDomainNotCached);
  EXPECT_TRUE(cached(key));
  EXPECT_EQ(purger_.stats().rejected[1][static_cast<size_t>(RejectReason::kDomainNotCached)].load(), 1u);
  outcome = purger_.purgeUrl(PurgeSource::kHtcp, "http://en.wikipedia.org/wiki/Foo");
  EXPECT_EQ(*outcome, Purger::Outcome::kPurged);
}

TEST_F(PurgerTest, MalformedUrlsAreCountedAndRefused) {
  for (const char* url : {"", "ftp://x/y", "http:///nohost", "/relative", "http://a b/c",
                          "http://user@host/x", "http://host/x#frag", "http://host/\x01"}) {
    EXPECT_FALSE(purger_.purgeUrl(PurgeSource::kKafka, url).ok()) << url;
  }
  EXPECT_EQ(purger_.stats().rejected[2][static_cast<size_t>(RejectReason::kMalformed)].load(), 8u);
  EXPECT_EQ(purger_.stats().applied[2].load(), 0u);
}

TEST_F(PurgerTest, HttpSourceAcl) {
  EXPECT_TRUE(purger_.allowsHttpFrom("127.0.0.1"));
  EXPECT_TRUE(purger_.allowsHttpFrom("::1"));
  EXPECT_FALSE(purger_.allowsHttpFrom("10.0.0.1"));
  EXPECT_FALSE(purger_.allowsHttpFrom("not-an-ip"));
  purger_.setSettings(settings({"10.0.0.0/8"}));
  EXPECT_TRUE(purger_.allowsHttpFrom("10.2.3.4"));
  EXPECT_FALSE(purger_.allowsHttpFrom("127.0.0.1"));
}

TEST(PurgeSettings, BadRegexOrCidrIsAnError) {
  EXPECT_FALSE(PurgeSettings::build({"127.0.0.1/33"}, "").ok());
  EXPECT_FALSE(PurgeSettings::build({}, "(unclosed").ok());
  EXPECT_TRUE(PurgeSettings::build({}, "^en\\.").ok());
}

TEST(PurgeTarget, SplitsAbsoluteUrls) {
  auto t = parsePurgeUrl("HTTPS://en.wiki.test:8443/wiki/Foo?a=b");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->scheme, "HTTPS");
  EXPECT_EQ(t->authority, "en.wiki.test:8443");
  EXPECT_EQ(t->path, "/wiki/Foo?a=b");
  t = parsePurgeUrl("http://en.wiki.test");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/");
  EXPECT_EQ(cache::primaryKey("http", "en.wiki.test", "/"), cache::primaryKey("http", "en.wiki.test", t->path));
}

}  // namespace
}  // namespace ec::purge
