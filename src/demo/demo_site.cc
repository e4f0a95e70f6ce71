#include "demo/demo_site.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

#include "base/strings.h"
#include "http/date.h"
#include "demo/png_image.h"

namespace ec::demo {

using http::formatHttpDate;
using http::parseHttpDate;
namespace {

constexpr std::array<const char*, 8> kInitialPages = {
    "Main_Page", "HTTP_caching", "Reverse_proxy", "Content_delivery_network",
    "Varnish",   "Request_coalescing", "Cache_eviction", "Edgecache"};

constexpr std::array<const char*, 8> kSentences = {
    "A cache keeps a copy of a response so that the next reader does not wait for the origin.",
    "Freshness is decided by s-maxage, max-age, Expires, or a heuristic on Last-Modified.",
    "A stale object is revalidated with If-None-Match and refreshed when the origin says 304.",
    "Concurrent misses on one key are coalesced into a single request to the origin.",
    "Vary names the request headers that select between stored variants.",
    "Edits must reach readers within seconds, so pages carry short shared lifetimes.",
    "Images rarely change and are cached for a month.",
    "The X-Cache header tells which layer answered: hit, miss, pass or int.",
};

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxEditText = 4096;
constexpr size_t kBigLine = 64;

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string hex(uint64_t value, int digits) {
  char out[24];
  std::snprintf(out, sizeof(out), "%0*llx", digits, static_cast<unsigned long long>(value));
  return out;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX and, for form data, '+'. Invalid escapes are kept literally.
std::string percentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        hexDigit(text[i + 1]) >= 0 && hexDigit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexDigit(text[i + 1]) * 16 + hexDigit(text[i + 2])));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The decoded value of `name` in an application/x-www-form-urlencoded string, if present.
std::optional<std::string> formParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : percentDecode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// Wiki titles: spaces become underscores; anything that could break out of HTML or a header
// is refused rather than escaped, which keeps every generated URL plain.
std::optional<std::string> normaliseTitle(std::string_view raw) {
  std::string title = percentDecode(raw, false);
  if (title.empty() || title.size() > kMaxTitle) return std::nullopt;
  for (char& c : title) {
    if (c == ' ') c = '_';
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || isDigit(c) ||
                    std::string_view("_-().,:!").find(c) != std::string_view::npos;
    if (!ok) return std::nullopt;
  }
  return title;
}

std::string displayTitle(std::string title) {
  for (char& c : title) {
    if (c == '_') c = ' ';
  }
  return title;
}

std::string htmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string jsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += "\\u00" + hex(static_cast<unsigned char>(c), 2);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
bool etagListMatches(std::string_view list, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    return tag.starts_with("W/") ? tag.substr(2) : tag;
  };
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trimOws(list.substr(0, comma));
    if (item == "*" || (!item.empty() && opaque(item) == opaque(etag))) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string pageEtag(const std::string& title, uint64_t revision) {
  return "\"" + hex(fnv1a(title), 16) + "-r" + std::to_string(revision) + "\"";
}

}  // namespace

std::string_view DemoRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::string_view DemoResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return value;
  }
  return {};
}

void fillGeneratedBody(uint64_t offset, char* out, size_t size) {
  // 64-byte text lines naming their own offset, so a corrupted or misplaced range is visible
  // to a human with curl and checkable by a test that regenerates it.
  while (size > 0) {
    const uint64_t line_start = offset - offset % kBigLine;
    char line[kBigLine + 1];
    std::snprintf(line, sizeof(line), "edgecache demo bytes at offset %016llx ...............\n",
                  static_cast<unsigned long long>(line_start));
    const size_t from = static_cast<size_t>(offset - line_start);
    const size_t n = std::min(size, kBigLine - from);
    std::copy(line + from, line + from + n, out);
    out += n;
    offset += n;
    size -= n;
  }
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

DemoSite::DemoSite(const TimeSource& time)
    : time_(time), site_epoch_(time.wallNow() - std::chrono::days{30}) {
  for (const char* title : kInitialPages) {
    // Stagger the initial edits so heuristic freshness differs from page to page.
    const auto age = std::chrono::hours{1 + fnv1a(title) % 500};
    pages_.emplace(title, Page{1, time.wallNow() - age, ""});
  }
}

DemoResponse DemoSite::handle(const DemoRequest& request) {
  const std::string_view target = request.target;
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  DemoResponse response = route(request, path, query);
  response.headers.insert(response.headers.begin(),
                          {{"Date", formatHttpDate(time_.wallNow())}, {"Server", "edgecache-demo"}});
  applyConditional(request, response);
  return response;
}

DemoResponse DemoSite::route(const DemoRequest& request, std::string_view path,
                             std::string_view query) {
  const bool is_read = request.method == "GET" || request.method == "HEAD";
  if (path == "/w/index.php" && request.method == "POST") return submitEdit(request, query);
  if (!is_read) {
    DemoResponse response{405, {{"Allow", path == "/w/index.php" ? "GET, HEAD, POST" : "GET, HEAD"},
                                {"Content-Type", "text/plain"}, {"Cache-Control", "no-store"}},
                          "method not allowed\n"};
    return response;
  }
  if (path == "/") {
    return DemoResponse{301,
                        {{"Location", "/wiki/Main_Page"},
                         {"Cache-Control", "public, max-age=3600"},
                         {"Content-Type", "text/html; charset=utf-8"}},
                        "<a href=\"/wiki/Main_Page\">Main Page</a>\n"};
  }
  if (path.starts_with("/wiki/")) {
    auto title = normaliseTitle(path.substr(6));
    if (!title) return notFound("bad title");
    return article(request, *title);
  }
  if (path == "/w/index.php") {
    auto title = normaliseTitle(formParam(query, "title").value_or(""));
    if (!title) return notFound("bad title");
    return article(request, *title);
  }
  if (path.starts_with("/api/rest_v1/page/summary/")) {
    auto title = normaliseTitle(path.substr(26));
    if (!title) return notFound("bad title");
    return summary(*title);
  }
  if (path == "/w/load.php") return loadModules(query);
  if (path.starts_with("/static/images/")) return image(path.substr(15));
  if (path == "/w/api.php") return apiQuery(query);
  if (path.starts_with("/big/")) return big(path.substr(5));
  return notFound(path);
}

bool DemoSite::findPage(const std::string& title, Page& out) const {
  std::lock_guard lock(mutex_);
  auto it = pages_.find(title);
  if (it == pages_.end()) return false;
  out = it->second;
  return true;
}

DemoResponse DemoSite::article(const DemoRequest& request, const std::string& title) {
  Page page;
  if (!findPage(title, page)) {
    DemoResponse response = notFound("no article named " + title);
    response.headers.emplace_back("Vary", "Accept-Encoding, Cookie");
    return response;
  }
  const bool logged_in = request.header("cookie").find("demo_session=") != std::string_view::npos;
  const std::string name = htmlEscape(displayTitle(title));
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + name +
                     " - Demo Wiki</title>\n<link rel=\"stylesheet\" "
                     "href=\"/w/load.php?modules=site.styles&amp;only=styles\"></head>\n<body>\n";
  html += logged_in ? "<p class=\"user\">You are logged in.</p>\n"
                    : "<p class=\"user\">Not logged in.</p>\n";
  html += "<h1>" + name + "</h1>\n<img src=\"/static/images/" + title + ".png\" alt=\"\">\n";
  const uint64_t seed = fnv1a(title);
  for (int paragraph = 0; paragraph < 3; ++paragraph) {
    html += "<p>";
    for (int s = 0; s < 3; ++s) {
      html += kSentences[(seed >> (paragraph * 9 + s * 3)) % kSentences.size()];
      html += ' ';
    }
    html += "</p>\n";
  }
  if (!page.latest_edit.empty()) html += "<p class=\"edit\">" + htmlEscape(page.latest_edit) + "</p>\n";
  html += "<ul>";
  for (const char* other : kInitialPages) {
    html += std::string("<li><a href=\"/wiki/") + other + "\">" + displayTitle(other) + "</a></li>";
  }
  html += "</ul>\n<p class=\"footer\">Revision " + std::to_string(page.revision) +
          ", last edited " + formatHttpDate(page.last_modified) +
          ".</p>\n<script src=\"/w/load.php?modules=startup&amp;only=scripts\"></script>\n"
          "</body></html>\n";
  return DemoResponse{200,
                      {{"Content-Type", "text/html; charset=utf-8"},
                       {"Cache-Control", "s-maxage=300, must-revalidate, max-age=0"},
                       {"ETag", pageEtag(title, page.revision)},
                       {"Last-Modified", formatHttpDate(page.last_modified)},
                       {"Vary", "Accept-Encoding, Cookie"}},
                      std::move(html)};
}

DemoResponse DemoSite::summary(const std::string& title) {
  Page page;
  if (!findPage(title, page)) {
    return DemoResponse{404,
                        {{"Content-Type", "application/problem+json"},
                         {"Cache-Control", "public, max-age=60, s-maxage=60"},
                         {"Vary", "Accept"}},
                        "{\"type\":\"not_found\",\"title\":\"" + jsonEscape(title) + "\"}\n"};
  }
  const std::string body = "{\"title\":\"" + jsonEscape(displayTitle(title)) +
                           "\",\"revision\":" + std::to_string(page.revision) +
                           ",\"timestamp\":\"" + formatHttpDate(page.last_modified) +
                           "\",\"extract\":\"" + kSentences[fnv1a(title) % kSentences.size()] +
                           "\"}\n";
  return DemoResponse{200,
                      {{"Content-Type", "application/json; charset=utf-8"},
                       {"Cache-Control", "public, max-age=60, s-maxage=60"},
                       {"ETag", "W/" + pageEtag(title, page.revision)},
                       {"Vary", "Accept"}},
                      body};
}

DemoResponse DemoSite::loadModules(std::string_view query) {
  const std::string modules = formParam(query, "modules").value_or("");
  const bool scripts = formParam(query, "only").value_or("") == "scripts";
  std::string body;
  for (size_t begin = 0; begin <= modules.size();) {
    size_t end = modules.find('|', begin);
    if (end == std::string::npos) end = modules.size();
    const std::string module = htmlEscape(modules.substr(begin, end - begin));
    if (!module.empty()) {
      body += scripts ? "mw.loader.state({\"" + jsonEscape(module) + "\":\"ready\"});\n"
                      : "/* " + module + " */\n." + hex(fnv1a(module), 8) +
                            " { color: #202122; margin: 0 1em; }\n";
    }
    begin = end + 1;
  }
  if (body.empty()) body = "/* no modules */\n";
  return DemoResponse{200,
                      {{"Content-Type", scripts ? "text/javascript; charset=utf-8"
                                                : "text/css; charset=utf-8"},
                       {"Cache-Control", "public, max-age=300, s-maxage=300"},
                       {"ETag", "W/\"" + hex(fnv1a(body), 16) + "\""},
                       {"Vary", "Accept-Encoding"}},
                      body};
}

DemoResponse DemoSite::image(std::string_view name) {
  if (!name.ends_with(".png") || name.size() <= 4) return notFound("not a png");
  const std::string_view stem = name.substr(0, name.size() - 4);
  if (!normaliseTitle(stem) || stem.find('%') != std::string_view::npos) {
    return notFound("bad image name");
  }
  const uint64_t seed = fnv1a(stem);
  return DemoResponse{200,
                      {{"Content-Type", "image/png"},
                       {"Cache-Control", "public, max-age=2592000"},
                       {"ETag", "\"img-" + hex(seed, 16) + "\""},
                       {"Last-Modified", formatHttpDate(site_epoch_)}},
                      makeDemoPng(static_cast<uint32_t>(seed), 48)};
}

DemoResponse DemoSite::apiQuery(std::string_view query) {
  const std::string action = formParam(query, "action").value_or("");
  std::string body;
  if (action == "query") {
    size_t page_count = 0;
    {
      std::lock_guard lock(mutex_);
      page_count = pages_.size();
    }
    body = "{\"query\":{\"general\":{\"sitename\":\"Demo Wiki\",\"servertime\":\"" +
           formatHttpDate(time_.wallNow()) + "\",\"articles\":" + std::to_string(page_count) +
           "}}}\n";
  } else {
    body = "{\"error\":{\"code\":\"badvalue\",\"info\":\"Unrecognized value for parameter "
           "\\\"action\\\": " + jsonEscape(action) + ".\"}}\n";
  }
  return DemoResponse{200,
                      {{"Content-Type", "application/json; charset=utf-8"},
                       {"Cache-Control", "private, must-revalidate, max-age=0"}},
                      body};
}

DemoResponse DemoSite::big(std::string_view size) {
  if (!size.ends_with("MiB")) return notFound("size must be <N>MiB");
  auto mib = parseDecimal(size.substr(0, size.size() - 3));
  if (!mib || *mib == 0 || *mib > kMaxBigMiB) return notFound("size must be 1..64 MiB");
  DemoResponse response{200,
                        {{"Content-Type", "application/octet-stream"},
                         {"Cache-Control", "public, max-age=600"},
                         {"ETag", "\"big-" + std::to_string(*mib) + "\""},
                         {"Last-Modified", formatHttpDate(site_epoch_)}},
                        ""};
  response.generated_length = *mib << 20;
  return response;
}

DemoResponse DemoSite::submitEdit(const DemoRequest& request, std::string_view query) {
  if (formParam(query, "action").value_or("") != "submit") {
    return DemoResponse{400, {{"Content-Type", "text/plain"}, {"Cache-Control", "no-store"}},
                        "use action=submit\n"};
  }
  auto title = normaliseTitle(formParam(query, "title").value_or(""));
  if (!title) {
    return DemoResponse{400, {{"Content-Type", "text/plain"}, {"Cache-Control", "no-store"}},
                        "bad title\n"};
  }
  // A form post carries the text in wpTextbox1 as MediaWiki's edit form does; anything else
  // is taken verbatim.
  std::string text = request.header("content-type").starts_with("application/x-www-form-urlencoded")
                         ? formParam(request.body, "wpTextbox1").value_or("")
                         : request.body;
  if (text.size() > kMaxEditText) text.resize(kMaxEditText);
  {
    std::lock_guard lock(mutex_);
    auto [it, created] = pages_.try_emplace(*title, Page{0, time_.wallNow(), ""});
    Page& page = it->second;
    page.revision += 1;
    // Last-Modified has one-second resolution; keep it strictly increasing so that an
    // If-Modified-Since from before the edit never matches.
    page.last_modified = std::max(time_.wallNow(), page.last_modified + std::chrono::seconds{created ? 0 : 1});
    page.latest_edit = std::move(text);
  }
  return DemoResponse{303,
                      {{"Location", "/wiki/" + *title},
                       {"Cache-Control", "no-store"},
                       {"Content-Type", "text/plain"}},
                      "saved\n"};
}

DemoResponse DemoSite::notFound(std::string_view what) {
  return DemoResponse{404,
                      {{"Content-Type", "text/html; charset=utf-8"},
                       {"Cache-Control", "s-maxage=60, max-age=0"}},
                      "<!DOCTYPE html>\n<html><body><h1>Not Found</h1><p>" + htmlEscape(what) +
                          "</p></body></html>\n"};
}

void DemoSite::applyConditional(const DemoRequest& request, DemoResponse& response) const {
  if (response.status != 200 || (request.method != "GET" && request.method != "HEAD")) return;
  const std::string_view etag = response.header("ETag");
  const std::string_view inm = request.header("if-none-match");
  bool not_modified = false;
  if (!inm.empty()) {
    // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    not_modified = !etag.empty() && etagListMatches(inm, etag);
  } else if (auto since = parseHttpDate(request.header("if-modified-since"))) {
    auto modified = parseHttpDate(response.header("Last-Modified"));
    not_modified = modified && *modified <= *since;
  }
  if (!not_modified) return;
  // A 304 carries the validators and caching metadata, not the representation's own fields.
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& field : response.headers) {
    for (const char* name : {"Date", "Server", "Cache-Control", "ETag", "Last-Modified", "Vary",
                             "Expires", "Content-Location"}) {
      if (equalsIgnoreCase(field.first, name)) kept.push_back(std::move(field));
    }
  }
  response.status = 304;
  response.headers = std::move(kept);
  response.body.clear();
  response.generated_length = 0;
}

}  // namespace ec::demo
