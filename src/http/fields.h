#pragma once
// Fields: an ordered list of HTTP header fields. Names compare case-insensitively; order and
// repetition are kept (RFC 9110 §5.2-5.3). Most views point into a buffer owned elsewhere (a
// connection's input buffer, a stored object's header block); addOwned() copies text that has
// no other home. clear() keeps capacity, so a connection reuses one Fields without allocating.

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec::http {

struct Field {
  std::string_view name;
  std::string_view value;
};

class Fields {
 public:
  Fields() = default;
  Fields(const Fields&) = delete;             // views into owned_ would dangle
  Fields& operator=(const Fields&) = delete;
  Fields(Fields&&) = default;
  Fields& operator=(Fields&&) = default;

  void add(std::string_view name, std::string_view value) { fields_.push_back({name, value}); }
  // Copies name and value into storage owned by this list.
  void addOwned(std::string_view name, std::string_view value);
  // Replaces every line of `name` with one owned line (appended at the end).
  void set(std::string_view name, std::string_view value);
  // Removes every line of `name`; returns how many were removed.
  size_t remove(std::string_view name);
  // Removes every line for which pred(field) is true; returns how many were removed.
  template <typename Pred>
  size_t removeIf(Pred&& pred) {
    return static_cast<size_t>(std::erase_if(fields_, pred));
  }
  void clear();
  void reserve(size_t n) { fields_.reserve(n); }

  // First value of `name`, if present.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  size_t count(std::string_view name) const;
  // All lines of `name` joined with ", " (RFC 9110 §5.3); empty when absent.
  std::string combined(std::string_view name) const;
  // Calls fn(element) for every comma-separated list element across all lines of `name`,
  // OWS-trimmed, empty elements skipped (RFC 9110 §5.6.1). Quoted commas are respected.
  template <typename Fn>
  void forEachListElement(std::string_view name, Fn&& fn) const;
  // True when some list element of `name` equals `token` case-insensitively.
  bool hasListToken(std::string_view name, std::string_view token) const;

  const std::vector<Field>& all() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
  std::deque<std::string> owned_;  // stable addresses for addOwned() text
};

// The names one head's Connection lines list (RFC 9110 §7.6.1), read once so that a check per
// field does not re-read Connection for every field. Views into the head's text, which must
// outlive this; the first kInline names are kept without allocating.
class ConnectionNames {
 public:
  explicit ConnectionNames(const Fields& fields);
  bool contains(std::string_view name) const;
  bool empty() const { return count_ == 0; }

 private:
  static constexpr size_t kInline = 8;
  std::array<std::string_view, kInline> inline_{};
  size_t count_ = 0;
  std::vector<std::string_view> more_;  // names past kInline (a hostile or odd head)
};

// Splits one field value into list elements (see Fields::forEachListElement).
template <typename Fn>
void forEachListElementOf(std::string_view value, Fn&& fn);

}  // namespace ec::http

#include "http/fields_inl.h"
