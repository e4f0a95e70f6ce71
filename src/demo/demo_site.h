#pragma once
// DemoSite: the content of the built-in demo origin, a small wiki-like site, with no sockets.
// It maps one parsed request to one response carrying the caching headers a real wiki sends
// (s-maxage + must-revalidate on articles, long-lived images, private API answers, Vary),
// answers conditional requests with 304, and keeps the per-page revision that edits bump, so
// a newcomer can watch misses become hits and an edit produce a new ETag.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time_source.h"

namespace ec::demo {

struct DemoRequest {
  std::string method;
  std::string target;  // origin-form, e.g. "/wiki/Main_Page?action=raw"
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  // The first value of `name` (lowercase), or "" when absent.
  std::string_view header(std::string_view name) const;
};

struct DemoResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // without Content-Length
  std::string body;
  // When non-zero the body is this many bytes of fillGeneratedBody() instead of `body`, so
  // /big/64MiB never sits in memory.
  uint64_t generated_length = 0;

  uint64_t contentLength() const { return generated_length ? generated_length : body.size(); }
  std::string_view header(std::string_view name) const;  // case-insensitive
};

// The deterministic bytes of /big/<N>MiB at [offset, offset + size).
void fillGeneratedBody(uint64_t offset, char* out, size_t size);
const char* reasonPhrase(int status);

class DemoSite {
 public:
  explicit DemoSite(const TimeSource& time);

  // Thread-safe: connection threads call it concurrently.
  DemoResponse handle(const DemoRequest& request);

  static constexpr uint64_t kMaxBigMiB = 64;

 private:
  struct Page {
    uint64_t revision = 1;
    WallTime last_modified;
    std::string latest_edit;  // text of the last edit, shown on the page
  };

  DemoResponse route(const DemoRequest& request, std::string_view path, std::string_view query);
  DemoResponse article(const DemoRequest& request, const std::string& title);
  DemoResponse summary(const std::string& title);
  DemoResponse loadModules(std::string_view query);
  DemoResponse image(std::string_view name);
  DemoResponse apiQuery(std::string_view query);
  DemoResponse big(std::string_view size);
  DemoResponse submitEdit(const DemoRequest& request, std::string_view query);
  DemoResponse notFound(std::string_view what);
  void applyConditional(const DemoRequest& request, DemoResponse& response) const;
  bool findPage(const std::string& title, Page& out) const;

  const TimeSource& time_;
  const WallTime site_epoch_;  // Last-Modified of unedited pages and of static assets
  mutable std::mutex mutex_;
  std::map<std::string, Page> pages_;
};

}  // namespace ec::demo
