#pragma once
// Template bodies for config_schema.h (kept apart so the declarations read as a table of
// contents).

#include <cstdio>
#include <type_traits>

namespace ec::config {

template <typename Section>
std::string formatFieldValue(const FieldDecl<Section>& field, const Section& section) {
  return std::visit(
      [&](auto member) -> std::string {
        const auto& value = section.*member;
        using Value = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, std::string>) {
          return value;
        } else if constexpr (std::is_same_v<Value, bool>) {
          return value ? "true" : "false";
        } else if constexpr (std::is_same_v<Value, double>) {
          char buffer[32];
          std::snprintf(buffer, sizeof buffer, "%g", value);
          return buffer;
        } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
          std::string out = "[";
          for (size_t i = 0; i < value.size(); ++i) {
            if (i != 0) out += ", ";
            out += value[i];
          }
          return out + "]";
        } else {
          const auto number = static_cast<uint64_t>(value);
          switch (field.type) {
            case FieldType::kSize:
              return formatSize(number);
            case FieldType::kDurationMs:
              return formatDurationMillis(number);
            case FieldType::kDurationS:
              return formatDurationMillis(number * 1000);
            default:
              return std::to_string(number);
          }
        }
      },
      field.member);
}

}  // namespace ec::config
