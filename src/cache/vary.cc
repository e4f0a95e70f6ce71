#include "cache/vary.h"

#include <algorithm>

#include "base/strings.h"

namespace ec::cache {

std::vector<std::string> parseVary(const http::Fields& response) {
  std::vector<std::string> names;
  response.forEachListElement("vary", [&](std::string_view element) {
    std::string name = toLower(element);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  });
  return names;
}

std::optional<std::string> secondaryKey(const std::vector<std::string>& vary_names,
                                        const http::Fields& request) {
  std::string key;
  for (const std::string& name : vary_names) {
    if (name == "*") return std::nullopt;
    key.append(name);
    if (!request.has(name)) {
      key.push_back('\n');
      continue;
    }
    key.push_back('=');
    bool first = true;
    // Language tags and content codings are case-insensitive (RFC 9110 §8.5.1, §8.4.1).
    const bool fold_case = name == "accept-language" || name == "accept-encoding";
    request.forEachListElement(name, [&](std::string_view element) {
      if (!first) key.push_back(',');
      first = false;
      bool in_space = false;
      for (char c : element) {
        if (c == ' ' || c == '\t') {
          in_space = true;
          continue;
        }
        if (in_space) key.push_back(' ');
        in_space = false;
        key.push_back(fold_case ? asciiLower(c) : c);
      }
    });
    key.push_back('\n');
  }
  return key;
}

}  // namespace ec::cache
