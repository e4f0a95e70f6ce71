#pragma once
// Store: the interface every cache tier implements (memory now; disk and the tiered facade in a
// later issue), keyed by the cache's primary key (cache/key) and, for Vary, a secondary key per
// variant (cache::secondaryKey over the vary names stored for that primary). All methods are
// thread-safe. Every Store passes tests/unit/storage/store_conformance_test.cc.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/fields.h"
#include "storage/cached_object.h"

namespace ec::storage {

class Store {
 public:
  virtual ~Store() = default;

  // Finds the variant of `primary` matching `request` (cache::secondaryKey over the vary names
  // stored for that primary). nullptr on miss, including Vary: * (never matches).
  virtual ObjectRef find(std::string_view primary, const http::Fields& request) = 0;

  // Inserts or replaces the variant `secondary` of `primary`. The object's meta().vary_names
  // become the primary's vary names; variants stored under other vary names are dropped. The
  // body may still be filling (read while write): the writer reports growth via noteGrowth()
  // and calls eraseIf() if the body fails or ends up too large. An object over the store's
  // size limit is refused, and the variant it would have replaced is dropped (it is outdated).
  virtual void insert(std::string_view primary, std::string_view secondary, ObjectRef object) = 0;

  // Removes the variant if it is still `object` (so a stale writer cannot remove a newer one).
  virtual bool eraseIf(std::string_view primary, std::string_view secondary,
                       const CachedObject* object) = 0;

  // Removes every variant of `primary` (purge, invalidation). Returns how many were removed.
  virtual size_t eraseAll(std::string_view primary) = 0;

  // The object's charge is now `new_charged_bytes` (normally object->chargedBytes()). A store
  // may evict to stay within its bound, or drop the object if it outgrew the size limit.
  virtual void noteGrowth(const CachedObject* object, size_t new_charged_bytes) = 0;

  struct Stats {
    uint64_t bytes = 0;      // charged bytes held now
    uint64_t objects = 0;    // variants held now
    uint64_t evictions = 0;  // removed by the replacement policy
    uint64_t inserts = 0;    // accepted inserts (replacements included)
    uint64_t hits = 0;
    uint64_t misses = 0;
  };
  virtual Stats stats() const = 0;
};

}  // namespace ec::storage
