#pragma once
// PolicyModel: a tiny in-memory cache, used only by tests, that composes the cache room's
// policy functions the way the proxy does (lookup by primaryKey + secondaryKey, decideServe,
// client conditionals, ranges, revalidation, storage decision, invalidation). The RFC 9111
// YAML cases run against it; the integration suite runs the same cases against the binary.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/time_source.h"
#include "cache/object_meta.h"
#include "cache/policy_config.h"

namespace ec::cache::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ModelRequest {
  std::string method = "GET";
  std::string path = "/";
  HeaderList headers;  // Host is always example.test
};

struct ModelOrigin {
  int status = 200;
  HeaderList headers;  // Date is added (the model's clock) unless present
  std::string body = "body";
};

struct ModelResult {
  int status = 0;
  HeaderList headers;
  std::string body;
  // The client's request waited on the origin. A stale-while-revalidate background refresh
  // does not count.
  bool origin_hit = false;
  bool background_fetch = false;
  // Headers of the origin request made during this step (foreground or background), if any.
  HeaderList origin_request_headers;
};

class PolicyModel {
 public:
  PolicyModel(PolicyConfig config, WallTime start) : config_(std::move(config)), now_(start) {}

  void advance(int64_t seconds) { now_ += Seconds{seconds}; }
  WallTime now() const { return now_; }
  ModelResult handle(const ModelRequest& request, const ModelOrigin& origin);
  size_t storedVariantsForTest(const std::string& primary_key) const;

 private:
  struct Entry {
    ObjectMeta meta;
    std::string body;
    std::string secondary_key;
  };

  PolicyConfig config_;
  WallTime now_;
  std::map<std::string, std::vector<Entry>> store_;
};

// Case-insensitive lookup in a HeaderList.
const std::string* findHeader(const HeaderList& headers, std::string_view name);

}  // namespace ec::cache::testing
