#include "demo/demo_site.h"

#include <gtest/gtest.h>

#include "http/date.h"

namespace ec::demo {

using http::formatHttpDate;
using http::parseHttpDate;
namespace {

DemoRequest get(std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
  return DemoRequest{"GET", std::move(target), std::move(headers), ""};
}

class DemoSiteTest : public ::testing::Test {
 protected:
  ManualTimeSource time_;
  DemoSite site_{time_};
};

TEST_F(DemoSiteTest, RootRedirectsToMainPage) {
  const DemoResponse r = site_.handle(get("/"));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"), "/wiki/Main_Page");
  EXPECT_EQ(r.header("Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(r.header("Date"), formatHttpDate(time_.wallNow()));
}

TEST_F(DemoSiteTest, ArticleCarriesWikiCachingHeaders) {
  const DemoResponse r = site_.handle(get("/wiki/Main_Page"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Cache-Control"), "s-maxage=300, must-revalidate, max-age=0");
  EXPECT_EQ(r.header("Vary"), "Accept-Encoding, Cookie");
  EXPECT_FALSE(r.header("ETag").empty());
  ASSERT_TRUE(parseHttpDate(r.header("Last-Modified")));
  EXPECT_LT(*parseHttpDate(r.header("Last-Modified")), time_.wallNow());
  EXPECT_NE(r.body.find("<h1>Main Page</h1>"), std::string::npos);
  EXPECT_NE(r.body.find("Not logged in"), std::string::npos);
  const DemoResponse logged_in = site_.handle(get("/wiki/Main_Page", {{"cookie", "demo_session=1"}}));
  EXPECT_NE(logged_in.body.find("You are logged in"), std::string::npos);
}

TEST_F(DemoSiteTest, UnknownArticleIsShortLived404) {
  const DemoResponse r = site_.handle(get("/wiki/No_Such_Page"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.header("Cache-Control").find("s-maxage=60"), std::string::npos);
  EXPECT_EQ(site_.handle(get("/wiki/%3Cscript%3E")).status, 404);
}

TEST_F(DemoSiteTest, ConditionalRequestsGet304) {
  const DemoResponse full = site_.handle(get("/wiki/Varnish"));
  const std::string etag(full.header("ETag"));
  const DemoResponse by_etag = site_.handle(get("/wiki/Varnish", {{"if-none-match", "\"x\", W/" + etag}}));
  EXPECT_EQ(by_etag.status, 304);
  EXPECT_TRUE(by_etag.body.empty());
  EXPECT_EQ(by_etag.header("ETag"), etag);
  EXPECT_TRUE(by_etag.header("Content-Type").empty());
  EXPECT_EQ(site_.handle(get("/wiki/Varnish", {{"if-none-match", "\"other\""}})).status, 200);

  const std::string lm(full.header("Last-Modified"));
  EXPECT_EQ(site_.handle(get("/wiki/Varnish", {{"if-modified-since", lm}})).status, 304);
  const std::string before = formatHttpDate(*parseHttpDate(lm) - Seconds{1});
  EXPECT_EQ(site_.handle(get("/wiki/Varnish", {{"if-modified-since", before}})).status, 200);
  // If-None-Match takes precedence over If-Modified-Since.
  EXPECT_EQ(site_.handle(get("/wiki/Varnish", {{"if-none-match", "\"other\""}, {"if-modified-since", lm}}))
                .status,
            200);
}

TEST_F(DemoSiteTest, EditChangesValidatorsAndContent) {
  const DemoResponse before = site_.handle(get("/wiki/Varnish"));
  time_.advance(Seconds{10});
  DemoRequest edit{"POST",
                   "/w/index.php?title=Varnish&action=submit",
                   {{"content-type", "application/x-www-form-urlencoded"}},
                   "wpTextbox1=Hello+from+the+%3Ctest%3E"};
  const DemoResponse saved = site_.handle(edit);
  EXPECT_EQ(saved.status, 303);
  EXPECT_EQ(saved.header("Location"), "/wiki/Varnish");
  const DemoResponse after = site_.handle(get("/wiki/Varnish"));
  EXPECT_NE(after.header("ETag"), before.header("ETag"));
  EXPECT_EQ(after.header("Last-Modified"), formatHttpDate(time_.wallNow()));
  EXPECT_NE(after.body.find("Hello from the &lt;test&gt;"), std::string::npos);
  EXPECT_NE(after.body.find("Revision 2"), std::string::npos);
  const std::string old_etag(before.header("ETag"));
  EXPECT_EQ(site_.handle(get("/wiki/Varnish", {{"if-none-match", old_etag}})).status, 200);
  // Editing a missing page creates it.
  EXPECT_EQ(site_.handle(get("/wiki/Brand_New")).status, 404);
  site_.handle(DemoRequest{"POST", "/w/index.php?title=Brand_New&action=submit", {}, "first"});
  EXPECT_EQ(site_.handle(get("/wiki/Brand_New")).status, 200);
}

TEST_F(DemoSiteTest, AssetsApiAndSummary) {
  const DemoResponse css = site_.handle(get("/w/load.php?modules=site.styles|skins.vector&only=styles"));
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.header("Cache-Control"), "public, max-age=300, s-maxage=300");
  EXPECT_EQ(css.header("Vary"), "Accept-Encoding");
  EXPECT_NE(css.body.find("skins.vector"), std::string::npos);
  EXPECT_EQ(site_.handle(get("/w/load.php?modules=startup&only=scripts")).header("Content-Type"),
            "text/javascript; charset=utf-8");

  const DemoResponse api = site_.handle(get("/w/api.php?action=query&meta=siteinfo"));
  EXPECT_EQ(api.header("Cache-Control"), "private, must-revalidate, max-age=0");
  EXPECT_NE(api.body.find("\"sitename\":\"Demo Wiki\""), std::string::npos);

  const DemoResponse summary = site_.handle(get("/api/rest_v1/page/summary/HTTP_caching"));
  EXPECT_EQ(summary.status, 200);
  EXPECT_EQ(summary.header("Vary"), "Accept");
  EXPECT_EQ(summary.header("Cache-Control"), "public, max-age=60, s-maxage=60");
  EXPECT_NE(summary.body.find("\"title\":\"HTTP caching\""), std::string::npos);
  EXPECT_EQ(site_.handle(get("/api/rest_v1/page/summary/Nope")).status, 404);
}

TEST_F(DemoSiteTest, ImagesAreLongLivedPngsWithoutVary) {
  const DemoResponse png = site_.handle(get("/static/images/Wiki_logo.png"));
  EXPECT_EQ(png.status, 200);
  EXPECT_EQ(png.header("Content-Type"), "image/png");
  EXPECT_EQ(png.header("Cache-Control"), "public, max-age=2592000");
  EXPECT_TRUE(png.header("Vary").empty());
  EXPECT_EQ(png.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(site_.handle(get("/static/images/x.gif")).status, 404);
}

TEST_F(DemoSiteTest, BigBodiesAreGeneratedDeterministically) {
  const DemoResponse big = site_.handle(get("/big/3MiB"));
  EXPECT_EQ(big.status, 200);
  EXPECT_EQ(big.contentLength(), 3u << 20);
  EXPECT_TRUE(big.body.empty());
  EXPECT_EQ(site_.handle(get("/big/65MiB")).status, 404);
  EXPECT_EQ(site_.handle(get("/big/0MiB")).status, 404);
  // Any slice equals the same bytes of the whole.
  std::string whole(256, '\0');
  fillGeneratedBody(0, whole.data(), whole.size());
  std::string slice(100, '\0');
  fillGeneratedBody(70, slice.data(), slice.size());
  EXPECT_EQ(slice, whole.substr(70, 100));
  EXPECT_EQ(whole.substr(64, 64),
            "edgecache demo bytes at offset 0000000000000040 ...............\n");
}

TEST_F(DemoSiteTest, UnsupportedMethodsGet405) {
  const DemoResponse r = site_.handle(DemoRequest{"DELETE", "/wiki/Main_Page", {}, ""});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD");
}

}  // namespace
}  // namespace ec::demo
