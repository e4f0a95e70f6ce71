#pragma once
// Helpers shared by the storage tests: complete or filling CachedObjects of a chosen size.

#include <memory>
#include <string>
#include <vector>

#include "storage/cached_object.h"

namespace ec::storage::testing {

inline std::shared_ptr<Body> completeBody(size_t size, char fill = 'b') {
  auto body = std::make_shared<Body>(size);
  body->append(std::string(size, fill));
  body->finish();
  return body;
}

inline ObjectRef makeObject(size_t body_size, std::vector<std::string> vary_names = {},
                            std::string head = "Content-Type: text/plain\r\n") {
  cache::ObjectMeta meta;
  meta.head = std::move(head);
  meta.vary_names = std::move(vary_names);
  meta.content_length = static_cast<int64_t>(body_size);
  return std::make_shared<CachedObject>(std::move(meta), completeBody(body_size));
}

// An object whose body is still filling (size unknown until it finishes).
inline ObjectRef makeFillingObject() {
  cache::ObjectMeta meta;
  meta.head = "Content-Type: video/webm\r\n";
  return std::make_shared<CachedObject>(std::move(meta), std::make_shared<Body>(0));
}

}  // namespace ec::storage::testing
