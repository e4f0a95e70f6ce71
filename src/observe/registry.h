#pragma once
// Registry: owns every metric series of one server and renders them in the Prometheus text
// exposition format 0.0.4. No global instance: the server creates one and passes it down, so
// tests build their own. Rooms look their series up once at start-up and keep the reference;
// the hot path never searches by name or takes the registry's lock.

#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "observe/metric.h"

namespace ec::observe {

class Registry {
 public:
  using Labels = std::initializer_list<std::string_view>;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The series of `decl` for these label values (one per declared label name, in order).
  // Created on first call; later calls return the same object, which lives as long as the
  // registry. Declaring one name twice with a different type or labels is a bug (EC_CHECK).
  Counter& counter(const MetricDecl& decl, Labels label_values = {});
  Gauge& gauge(const MetricDecl& decl, Labels label_values = {});
  Histogram& histogram(const MetricDecl& decl, Labels label_values = {});

  // A series whose value is computed at scrape time (memory tier bytes, process CPU...), for a
  // counter or gauge declaration. `read` runs on the scraping thread, outside any lock.
  void callback(const MetricDecl& decl, Labels label_values, std::function<double()> read);

  // Runs before each scrape, to refresh several gauges from one snapshot of some state.
  void addCollector(std::function<void(Registry&)> collect);

  // The whole exposition: families sorted by name, series by label values.
  std::string renderPrometheus();

  // docs/user/metrics.md: one table row per declaration, sorted by name.
  static std::string renderDocs(const std::vector<const MetricDecl*>& decls);

 private:
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string name;
    std::string help;
    MetricDecl::Type type;
    std::vector<std::string> label_names;
    std::vector<double> buckets;
    std::map<std::vector<std::string>, Series> series;
  };

  Series& seriesFor(const MetricDecl& decl, Labels label_values);
  using CallbackValues = std::map<const Series*, double>;
  static void renderFamily(const Family& family, const CallbackValues& callback_values,
                           std::string& out);

  std::mutex scrape_mutex_;  // serialises scrapes (collectors may register series)
  std::mutex mutex_;         // guards families_ and collectors_
  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

// Text exposition escaping (format 0.0.4): label values escape '\', '"' and newline; HELP
// text escapes '\' and newline.
std::string escapeLabelValue(std::string_view value);
std::string escapeHelp(std::string_view help);
// Shortest text that reads back as the same double; "+Inf", "-Inf", "NaN" as Prometheus spells.
std::string formatValue(double value);

}  // namespace ec::observe
