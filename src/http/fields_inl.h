#pragma once
// Template bodies for fields.h.

#include "base/strings.h"

namespace ec::http {

template <typename Fn>
void forEachListElementOf(std::string_view value, Fn&& fn) {
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i < value.size()) {
      const char c = value[i];
      if (quoted && c == '\\') {
        ++i;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (c != ',' || quoted) continue;
    }
    std::string_view element = ec::trimOws(value.substr(start, i - start));
    if (!element.empty()) fn(element);
    start = i + 1;
  }
}

template <typename Fn>
void Fields::forEachListElement(std::string_view name, Fn&& fn) const {
  for (const Field& field : fields_) {
    if (ec::equalsIgnoreCase(field.name, name)) forEachListElementOf(field.value, fn);
  }
}

}  // namespace ec::http
