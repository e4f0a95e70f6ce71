#include "http/fields.h"

#include <algorithm>

namespace ec::http {

void Fields::addOwned(std::string_view name, std::string_view value) {
  owned_.emplace_back(name);
  std::string_view owned_name = owned_.back();
  owned_.emplace_back(value);
  fields_.push_back({owned_name, owned_.back()});
}

void Fields::set(std::string_view name, std::string_view value) {
  std::string name_copy(name), value_copy(value);  // `name` may point into a line we remove
  remove(name_copy);
  addOwned(name_copy, value_copy);
}

size_t Fields::remove(std::string_view name) {
  const size_t before = fields_.size();
  std::erase_if(fields_, [&](const Field& f) { return ec::equalsIgnoreCase(f.name, name); });
  return before - fields_.size();
}

void Fields::clear() {
  fields_.clear();
  if (!owned_.empty()) owned_.clear();  // an empty deque's clear() still walks its map
}

std::optional<std::string_view> Fields::get(std::string_view name) const {
  for (const Field& field : fields_) {
    if (ec::equalsIgnoreCase(field.name, name)) return field.value;
  }
  return std::nullopt;
}

size_t Fields::count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(fields_.begin(), fields_.end(), [&](const Field& f) {
    return ec::equalsIgnoreCase(f.name, name);
  }));
}

std::string Fields::combined(std::string_view name) const {
  std::string out;
  for (const Field& field : fields_) {
    if (!ec::equalsIgnoreCase(field.name, name)) continue;
    if (!out.empty()) out += ", ";
    out += field.value;
  }
  return out;
}

ConnectionNames::ConnectionNames(const Fields& fields) {
  fields.forEachListElement("connection", [this](std::string_view name) {
    if (count_ < kInline) inline_[count_] = name;
    else more_.push_back(name);
    ++count_;
  });
}

bool ConnectionNames::contains(std::string_view name) const {
  const size_t inline_count = std::min(count_, kInline);
  for (size_t i = 0; i < inline_count; ++i) {
    if (ec::equalsIgnoreCase(inline_[i], name)) return true;
  }
  for (std::string_view listed : more_) {
    if (ec::equalsIgnoreCase(listed, name)) return true;
  }
  return false;
}

bool Fields::hasListToken(std::string_view name, std::string_view token) const {
  bool found = false;
  forEachListElement(name, [&](std::string_view element) {
    if (ec::equalsIgnoreCase(element, token)) found = true;
  });
  return found;
}

}  // namespace ec::http
