#include "storage/cached_object.h"

#include <utility>

#include "base/check.h"

namespace ec::storage {
namespace {

size_t metaBytes(const cache::ObjectMeta& meta) {
  size_t bytes = sizeof(CachedObject) + meta.head.capacity() + meta.etag.capacity() +
                 meta.last_modified.capacity() + meta.vary_names.capacity() * sizeof(std::string);
  for (const std::string& name : meta.vary_names) bytes += name.capacity();
  return bytes;
}

}  // namespace

CachedObject::CachedObject(cache::ObjectMeta meta, std::shared_ptr<Body> body)
    : meta_(std::move(meta)), body_(std::move(body)), meta_bytes_(0) {
  EC_CHECK(body_ != nullptr);
  meta_bytes_ = metaBytes(meta_) + kIndexOverheadBytes;
}

}  // namespace ec::storage
