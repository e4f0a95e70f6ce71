// embeddedDefaultConfig(): deploy/edgecache.yaml compiled in (see src/config/CMakeLists.txt),
// so the example operators read and the config `make run` starts with are one file.

#include "config/config.h"
#include "config/default_config_yaml.h"

namespace ec::config {

std::string_view embeddedDefaultConfig() { return kDefaultConfigYaml; }

}  // namespace ec::config
