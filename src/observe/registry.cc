#include "observe/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "base/check.h"

namespace ec::observe {
namespace {

bool isNameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

bool isValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!isNameChar(name[i], i == 0) || (!allow_colon && name[i] == ':')) return false;
  }
  return true;
}

const char* typeName(MetricDecl::Type type) {
  switch (type) {
    case MetricDecl::Type::kCounter:
      return "counter";
    case MetricDecl::Type::kGauge:
      return "gauge";
    case MetricDecl::Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Declarations are code, not input: a malformed one is a bug caught at start-up.
void checkDecl(const MetricDecl& decl) {
  EC_CHECK(isValidName(decl.name, true));
  EC_CHECK(decl.name.starts_with("edgecache_"));
  EC_CHECK(!decl.help.empty());
  EC_CHECK(decl.type != MetricDecl::Type::kCounter || decl.name.ends_with("_total"));
  EC_CHECK((decl.type == MetricDecl::Type::kHistogram) == !decl.buckets.empty());
  for (std::string_view label : decl.label_names) {
    EC_CHECK(isValidName(label, false) && !label.starts_with("__"));
    EC_CHECK(decl.type != MetricDecl::Type::kHistogram || label != "le");
  }
}

// {a="x",b="y"} with an optional extra label last (histograms' "le"); "" when there are none.
std::string labelSet(const std::vector<std::string>& names, const std::vector<std::string>& values,
                     std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i != 0) out += ',';
    out += names[i] + "=\"" + escapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  return out + "}";
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  EC_CHECK(ec == std::errc());
  return std::string(buffer, end);
}

Registry::Series& Registry::seriesFor(const MetricDecl& decl, Labels label_values) {
  EC_CHECK(label_values.size() == decl.label_names.size());
  std::lock_guard lock(mutex_);
  auto it = families_.find(decl.name);
  if (it == families_.end()) {
    checkDecl(decl);
    Family family;
    family.name = std::string(decl.name);
    family.help = std::string(decl.help);
    family.type = decl.type;
    family.label_names.assign(decl.label_names.begin(), decl.label_names.end());
    family.buckets = decl.buckets;
    it = families_.emplace(family.name, std::move(family)).first;
  }
  Family& family = it->second;
  // Two rooms declaring one name differently is a bug, not something to render twice.
  EC_CHECK(family.type == decl.type);
  EC_CHECK(family.label_names.size() == decl.label_names.size());
  for (size_t i = 0; i < decl.label_names.size(); ++i) {
    EC_CHECK(family.label_names[i] == decl.label_names[i]);
  }
  EC_CHECK(family.buckets == decl.buckets);
  return family.series[std::vector<std::string>(label_values.begin(), label_values.end())];
}

Counter& Registry::counter(const MetricDecl& decl, Labels label_values) {
  EC_CHECK(decl.type == MetricDecl::Type::kCounter);
  Series& series = seriesFor(decl, label_values);
  std::lock_guard lock(mutex_);
  EC_CHECK(!series.read);
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& Registry::gauge(const MetricDecl& decl, Labels label_values) {
  EC_CHECK(decl.type == MetricDecl::Type::kGauge);
  Series& series = seriesFor(decl, label_values);
  std::lock_guard lock(mutex_);
  EC_CHECK(!series.read);
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

Histogram& Registry::histogram(const MetricDecl& decl, Labels label_values) {
  EC_CHECK(decl.type == MetricDecl::Type::kHistogram);
  Series& series = seriesFor(decl, label_values);
  std::lock_guard lock(mutex_);
  if (!series.histogram) series.histogram = std::make_unique<Histogram>(decl.buckets);
  return *series.histogram;
}

void Registry::callback(const MetricDecl& decl, Labels label_values, std::function<double()> read) {
  EC_CHECK(decl.type != MetricDecl::Type::kHistogram);
  EC_CHECK(read != nullptr);
  Series& series = seriesFor(decl, label_values);
  std::lock_guard lock(mutex_);
  EC_CHECK(!series.counter && !series.gauge && !series.read);
  series.read = std::move(read);
}

void Registry::addCollector(std::function<void(Registry&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::renderPrometheus() {
  std::lock_guard scrape(scrape_mutex_);
  // Collectors and callbacks run unlocked: they may register series or take their own locks.
  std::vector<std::function<void(Registry&)>> collectors;
  std::vector<std::pair<const Series*, const std::function<double()>*>> callbacks;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& collect : collectors) collect(*this);
  {
    std::lock_guard lock(mutex_);
    for (const auto& [name, family] : families_) {
      for (const auto& [labels, series] : family.series) {
        if (series.read) callbacks.emplace_back(&series, &series.read);
      }
    }
  }
  // Series are never removed and map nodes never move, so these pointers stay valid; a
  // callback is only assigned once, before it becomes visible here.
  CallbackValues values;
  for (const auto& [series, read] : callbacks) values[series] = (*read)();

  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) renderFamily(family, values, out);
  return out;
}

void Registry::renderFamily(const Family& family, const CallbackValues& callback_values,
                            std::string& out) {
  if (family.series.empty()) return;
  out += "# HELP " + family.name + " " + escapeHelp(family.help) + "\n";
  out += "# TYPE " + family.name + " " + typeName(family.type) + "\n";
  for (const auto& [labels, series] : family.series) {
    if (series.histogram) {
      const Histogram::Snapshot snap = series.histogram->snapshot();
      for (size_t i = 0; i < snap.bounds.size(); ++i) {
        out += family.name + "_bucket" +
               labelSet(family.label_names, labels, "le", formatValue(snap.bounds[i])) + " " +
               std::to_string(snap.cumulative[i]) + "\n";
      }
      out += family.name + "_bucket" + labelSet(family.label_names, labels, "le", "+Inf") + " " +
             std::to_string(snap.count) + "\n";
      out += family.name + "_sum" + labelSet(family.label_names, labels) + " " +
             formatValue(snap.sum) + "\n";
      out += family.name + "_count" + labelSet(family.label_names, labels) + " " +
             std::to_string(snap.count) + "\n";
      continue;
    }
    std::string value;
    if (series.counter) {
      value = std::to_string(series.counter->value());
    } else if (series.gauge) {
      value = std::to_string(series.gauge->value());
    } else if (auto it = callback_values.find(&series); it != callback_values.end()) {
      value = formatValue(it->second);
    } else {
      continue;  // a callback registered during this scrape: next time
    }
    out += family.name + labelSet(family.label_names, labels) + " " + value + "\n";
  }
}

std::string Registry::renderDocs(const std::vector<const MetricDecl*>& decls) {
  std::vector<const MetricDecl*> sorted = decls;
  std::sort(sorted.begin(), sorted.end(),
            [](const MetricDecl* a, const MetricDecl* b) { return a->name < b->name; });
  std::string out;
  out += "# Metrics reference\n\n";
  out +=
      "<!-- Generated by tools/gen_docs from each room's metric declarations: do not edit. "
      "-->\n\n";
  out +=
      "edgecache serves these at `/metrics` on the admin listener, in the Prometheus text "
      "format (0.0.4). Counters end in `_total`; units are in the name (`_seconds`, "
      "`_bytes`); variants are labels, not names. Histograms also expose `_bucket{le=...}`, "
      "`_sum` and `_count`.\n\n";
  out += "| Name | Type | Labels | Unit | Description |\n";
  out += "|---|---|---|---|---|\n";
  for (const MetricDecl* decl : sorted) {
    std::string labels;
    for (std::string_view label : decl->label_names) {
      labels += labels.empty() ? "" : ", ";
      labels += "`" + std::string(label) + "`";
    }
    std::string help(decl->help);
    if (decl->type == MetricDecl::Type::kHistogram) {
      help += " Buckets:";
      for (double bound : decl->buckets) help += " " + formatValue(bound);
      help += ".";
    }
    std::string cell;
    for (char c : help) {
      if (c == '|') cell += '\\';
      cell += c;
    }
    out += "| `" + std::string(decl->name) + "` | " + typeName(decl->type) + " | " + labels +
           " | " + std::string(decl->unit) + " | " + cell + " |\n";
  }
  return out;
}

}  // namespace ec::observe
