// Runs every RFC 9111 YAML case in tests/cases/rfc9111/ against PolicyModel (the policy
// functions composed as the proxy composes them). The integration suite runs the same files
// against the real binary, so the file format is shared: see the header of any case file.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "base/strings.h"
#include "http/date.h"
#include "policy_model.h"

namespace ec::cache::testing {
namespace {

constexpr WallTime kStart{Seconds{1'700'000'000}};

struct Case {
  std::string file;
  std::string name;
  YAML::Node node;
};

std::filesystem::path casesDir() {
  return std::filesystem::path(EC_SOURCE_DIR) / "tests/cases/rfc9111";
}

std::vector<Case> loadCases() {
  std::vector<Case> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(casesDir())) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const YAML::Node root = YAML::LoadFile(file.string());
    for (const YAML::Node& node : root) {
      cases.push_back({file.filename().string(), node["name"].as<std::string>(), node});
    }
  }
  return cases;
}

const std::vector<Case>& allCases() {
  static const std::vector<Case> cases = loadCases();
  return cases;
}

// "{now}", "{now-100}", "{now+5}" become IMF-fixdates on the test clock.
std::string substitute(std::string text, WallTime now) {
  for (size_t open = text.find("{now"); open != std::string::npos; open = text.find("{now", open)) {
    const size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    const std::string inner = text.substr(open + 4, close - open - 4);
    int64_t offset = 0;
    if (!inner.empty()) {
      auto magnitude = parseDecimal(inner.substr(1));
      if ((inner[0] != '-' && inner[0] != '+') || !magnitude) {
        ADD_FAILURE() << "bad date placeholder in '" << text << "'";
        break;
      }
      offset =
          inner[0] == '-' ? -static_cast<int64_t>(*magnitude) : static_cast<int64_t>(*magnitude);
    }
    const std::string date = http::formatHttpDate(now + Seconds{offset});
    text.replace(open, close - open + 1, date);
    open += date.size();
  }
  return text;
}

HeaderList headerMap(const YAML::Node& node, WallTime now) {
  HeaderList headers;
  if (!node) return headers;
  for (const auto& item : node) {
    headers.emplace_back(item.first.as<std::string>(),
                         substitute(item.second.as<std::string>(), now));
  }
  return headers;
}

PolicyConfig configFrom(const YAML::Node& node) {
  PolicyConfig config;
  if (!node) return config;
  for (const auto& item : node) {
    const auto key = item.first.as<std::string>();
    const YAML::Node& v = item.second;
    if (key == "ttl_cap")
      config.ttl_cap = v.as<int64_t>();
    else if (key == "default_ttl")
      config.default_ttl = v.as<int64_t>();
    else if (key == "heuristic_fraction")
      config.heuristic_fraction = v.as<double>();
    else if (key == "heuristic_cap")
      config.heuristic_cap = v.as<int64_t>();
    else if (key == "cache_set_cookie")
      config.cache_set_cookie = v.as<bool>();
    else if (key == "honor_request_no_cache")
      config.honor_request_no_cache = v.as<bool>();
    else if (key == "honor_request_max_age")
      config.honor_request_max_age = v.as<bool>();
    else if (key == "grace")
      config.grace = v.as<int64_t>();
    else if (key == "hit_for_pass")
      config.hit_for_pass = v.as<int64_t>();
    else if (key == "max_ranges")
      config.max_ranges = v.as<size_t>();
    else
      ADD_FAILURE() << "unknown config key " << key;
  }
  return config;
}

void checkStep(const YAML::Node& expect, const ModelResult& got, WallTime now) {
  if (expect["status"]) {
    EXPECT_EQ(got.status, expect["status"].as<int>());
  }
  if (expect["origin_hit"]) {
    EXPECT_EQ(got.origin_hit, expect["origin_hit"].as<bool>());
  }
  for (const auto& [name, value] : headerMap(expect["origin_request_headers"], now)) {
    const std::string* seen = findHeader(got.origin_request_headers, name);
    if (!seen) {
      ADD_FAILURE() << "origin did not see " << name;
    } else {
      EXPECT_EQ(*seen, value) << "origin request header " << name;
    }
  }
  for (const auto& [name, value] : headerMap(expect["headers"], now)) {
    const std::string* sent = findHeader(got.headers, name);
    if (!sent) {
      ADD_FAILURE() << "response lacks " << name;
    } else {
      EXPECT_EQ(*sent, value) << "response header " << name;
    }
  }
  if (expect["absent_headers"]) {
    for (const auto& name : expect["absent_headers"]) {
      EXPECT_EQ(findHeader(got.headers, name.as<std::string>()), nullptr)
          << "response has " << name.as<std::string>();
    }
  }
  if (expect["body"]) {
    EXPECT_EQ(got.body, expect["body"].as<std::string>());
  }
}

class Rfc9111Case : public ::testing::TestWithParam<size_t> {};

TEST_P(Rfc9111Case, Behaves) {
  const Case& c = allCases()[GetParam()];
  SCOPED_TRACE(c.file + ": " + c.name);
  PolicyModel model(configFrom(c.node["config"]), kStart);
  int index = 0;
  for (const YAML::Node& step : c.node["steps"]) {
    SCOPED_TRACE("step " + std::to_string(index++));
    if (step["advance"]) model.advance(step["advance"].as<int64_t>());
    ModelRequest request;
    const YAML::Node& r = step["request"];
    if (r["method"]) request.method = r["method"].as<std::string>();
    if (r["path"]) request.path = r["path"].as<std::string>();
    request.headers = headerMap(r["headers"], model.now());
    ModelOrigin origin;
    if (const YAML::Node& o = step["origin"]) {
      if (o["status"]) origin.status = o["status"].as<int>();
      origin.headers = headerMap(o["headers"], model.now());
      if (o["body"]) origin.body = o["body"].as<std::string>();
    }
    checkStep(step["expect"], model.handle(request, origin), model.now());
  }
}

std::string caseName(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = allCases()[info.param].name;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, Rfc9111Case, ::testing::Range<size_t>(0, allCases().size()),
                         caseName);

TEST(Rfc9111Cases, EnoughUniqueCasesAcrossTopics) {
  std::set<std::string> names, files;
  for (const Case& c : allCases()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
    files.insert(c.file);
  }
  EXPECT_GE(allCases().size(), 90u);
  for (const char* topic : {"freshness.yaml", "validation.yaml", "vary.yaml", "directives.yaml",
                            "invalidation.yaml", "stale.yaml", "ranges.yaml", "keys.yaml"}) {
    EXPECT_TRUE(files.count(topic)) << topic;
  }
}

}  // namespace
}  // namespace ec::cache::testing
