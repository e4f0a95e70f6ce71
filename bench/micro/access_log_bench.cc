// access_log_bench: what the access log costs a worker per request. Rendering a typical
// webrequest record as JSON, rendering a hostile one (every byte escaped), and the whole
// submit() (render + copy into the thread's ring) while the writer thread drains to a sink
// that discards. google-benchmark; numbers are per line.

#include <benchmark/benchmark.h>

#include <string>

#include "accesslog/access_log.h"
#include "accesslog/access_record.h"

namespace {

using ec::accesslog::AccessLog;
using ec::accesslog::AccessLogOptions;
using ec::accesslog::AccessRecord;

AccessRecord typical() {
  AccessRecord r;
  r.hostname = "cp3050.esams.wmnet";
  r.dt_epoch_seconds = 1764092682;
  r.time_firstbyte = 0.000187;
  r.ip = "2001:db8::42";
  r.cache_status = "hit-front";
  r.http_status = 200;
  r.response_size = 48213;
  r.http_method = "GET";
  r.uri_host = "en.wikipedia.org";
  r.uri_path = "/wiki/Special:Search";
  r.uri_query = "?search=caf%C3%A9&title=Special%3ASearch";
  r.content_type = "text/html; charset=UTF-8";
  r.referer = "https://en.wikipedia.org/wiki/Main_Page";
  r.user_agent =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
      "Safari/537.36";
  r.accept_language = "en-US,en;q=0.9";
  r.x_analytics = "ns=-1;special=Search;WMF-Last-Access=25-Nov-2026";
  r.x_cache = "cp3050 miss, cp3050 hit/7";
  r.accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  r.backend = "ATS/9.2.3";
  return r;
}

class NullSink final : public ec::accesslog::Sink {
 public:
  std::string_view name() const override { return "null"; }
  ec::Status write(std::string_view, uint64_t& lost) override {
    lost = 0;
    return {};
  }
};

void BM_RenderTypical(benchmark::State& state) {
  const AccessRecord record = typical();
  std::string line;
  for (auto _ : state) {
    line.clear();
    ec::accesslog::appendJsonLine(record, line);
    benchmark::DoNotOptimize(line.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_RenderTypical);

void BM_RenderHostile(benchmark::State& state) {
  AccessRecord record = typical();
  std::string agent(512, '\0');
  for (size_t i = 0; i < agent.size(); ++i) agent[i] = static_cast<char>(i * 37 % 256);
  record.user_agent = agent;
  record.referer = agent;
  std::string line;
  for (auto _ : state) {
    line.clear();
    ec::accesslog::appendJsonLine(record, line);
    benchmark::DoNotOptimize(line.data());
  }
}
BENCHMARK(BM_RenderHostile);

void BM_Submit(benchmark::State& state) {
  static AccessLog* log = nullptr;
  if (state.thread_index() == 0) {
    std::vector<std::unique_ptr<ec::accesslog::Sink>> sinks;
    sinks.push_back(std::make_unique<NullSink>());
    AccessLogOptions options;
    options.queue_bytes = 8 << 20;
    options.flush_interval = ec::Millis{1};
    log = new AccessLog(options, std::move(sinks));
    log->start();
  }
  AccessRecord record = typical();
  for (auto _ : state) benchmark::DoNotOptimize(log->submit(record));
  if (state.thread_index() == 0) {
    state.counters["dropped"] = static_cast<double>(log->stats().dropped_queue_full.load());
    delete log;
  }
}
BENCHMARK(BM_Submit)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
