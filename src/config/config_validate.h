#pragma once
// Internal to the config room: validation findings keyed by setting path, so that the loader can
// place them at the right line and drop findings about values it already reported as unreadable.

#include <string>
#include <vector>

#include "config/config.h"

namespace ec::config::detail {

struct Issue {
  std::string path;     // "cache.memory_size", "services[1].hosts[0]", "" for the whole file
  std::string message;  // without the path
};

void validateInto(const Config& config, std::vector<Issue>& issues);

// Places an issue at its position in the source ("file:line:column: path: message").
ConfigError locate(const Config& config, const Issue& issue);

// Distance used for "did you mean" hints: the edit distance between two short keys.
size_t editDistance(std::string_view a, std::string_view b);

}  // namespace ec::config::detail
