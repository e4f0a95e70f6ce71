// Parses the same HTTP/1.1 requests with edgecache's strict RequestParser and with
// http-parser 2.9 (Debian's libhttp-parser), to put a number on what strictness costs.
// Build: cmake --preset bench && cmake --build build/bench --target http_parser_bench
#include <benchmark/benchmark.h>
#include <http_parser.h>

#include <string>

#include "http/parse_limits.h"
#include "http/request_parser.h"

namespace {

// A browser-like request (~500 bytes, 11 fields) and a minimal one.
const std::string kBrowserRequest =
    "GET /wiki/Main_Page?action=view&oldid=12345 HTTP/1.1\r\n"
    "Host: en.wiki.test\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Referer: https://en.wiki.test/wiki/Special:Search\r\n"
    "Cookie: enwikiUserName=Example; enwikiSession=0123456789abcdef0123456789abcdef\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "If-None-Match: \"7b22eb069273b466-r1\"\r\n"
    "\r\n";
const std::string kMinimalRequest = "GET /1k HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

void edgecacheParser(benchmark::State& state, const std::string& request) {
  const ec::http::ParseLimits limits;
  ec::http::RequestParser parser(limits);
  ec::http::RequestHead head;
  head.fields.reserve(32);
  for (auto _ : state) {
    parser.reset();
    head.clear();
    auto status = parser.parse(request, head);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(head.path.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request.size()));
}

int onAny(http_parser*) { return 0; }
int onData(http_parser*, const char*, size_t) { return 0; }

void httpParser(benchmark::State& state, const std::string& request) {
  http_parser_settings settings{};
  settings.on_message_begin = onAny;
  settings.on_url = onData;
  settings.on_header_field = onData;
  settings.on_header_value = onData;
  settings.on_headers_complete = onAny;
  settings.on_message_complete = onAny;
  http_parser parser;
  for (auto _ : state) {
    http_parser_init(&parser, HTTP_REQUEST);
    size_t parsed = http_parser_execute(&parser, &settings, request.data(), request.size());
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * request.size()));
}

BENCHMARK_CAPTURE(edgecacheParser, browser, kBrowserRequest);
BENCHMARK_CAPTURE(httpParser, browser, kBrowserRequest);
BENCHMARK_CAPTURE(edgecacheParser, minimal, kMinimalRequest);
BENCHMARK_CAPTURE(httpParser, minimal, kMinimalRequest);

}  // namespace

BENCHMARK_MAIN();
