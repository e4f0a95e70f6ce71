#include "http/serializer.h"

#include <charconv>
#include <vector>

#include "base/strings.h"

namespace ec::http {
namespace {

bool isUnkeyedOverride(std::string_view name) {
  for (std::string_view n : {"x-forwarded-host", "x-host", "x-original-url", "x-rewrite-url",
                             "x-http-method-override"}) {
    if (equalsIgnoreCase(name, n)) return true;
  }
  return false;
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void appendDecimal(std::string& out, uint64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)ec;
  out.append(buffer, end);
}

}  // namespace

bool isHopByHopField(std::string_view name) {
  // By length first, so most names cost one comparison or none: this runs for every field of
  // every forwarded and every stored head.
  switch (name.size()) {
    case 2: return equalsIgnoreCase(name, "te");
    case 7: return equalsIgnoreCase(name, "trailer") || equalsIgnoreCase(name, "upgrade");
    case 10: return equalsIgnoreCase(name, "connection") || equalsIgnoreCase(name, "keep-alive");
    case 16: return equalsIgnoreCase(name, "proxy-connection");
    case 17: return equalsIgnoreCase(name, "transfer-encoding");
    case 18: return equalsIgnoreCase(name, "proxy-authenticate");
    case 19: return equalsIgnoreCase(name, "proxy-authorization");
    default: return false;
  }
}

bool isProtectedField(std::string_view name) {
  for (std::string_view n : {"host", "content-length", "authorization", "x-forwarded-for", "cookie",
                             "transfer-encoding"}) {
    if (equalsIgnoreCase(name, n)) return true;
  }
  return false;
}

void appendOriginRequest(std::string& out, const RequestHead& head, const ForwardOptions& options,
                         const Fields* extra_fields) {
  // Names listed in Connection are removed too, except the protected ones (never listed away).
  const ConnectionNames named(head.fields);
  out.append(head.method_text.empty() ? methodName(head.method) : head.method_text);
  out.push_back(' ');
  out.append(head.path.empty() ? std::string_view("/") : head.path);
  out.append(" HTTP/1.1\r\n");
  appendField(out, "Host", head.authority);

  std::string forwarded_for;
  for (const Field& field : head.fields.all()) {
    const std::string_view name = field.name;
    if (equalsIgnoreCase(name, "x-forwarded-for")) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for += field.value;
      continue;
    }
    // Host and the framing fields are rewritten below from the parsed head.
    if (equalsIgnoreCase(name, "host") || equalsIgnoreCase(name, "content-length")) continue;
    if (isHopByHopField(name) || (named.contains(name) && !isProtectedField(name))) continue;
    if (options.strip_unkeyed_overrides && isUnkeyedOverride(name)) continue;
    if (extra_fields != nullptr && extra_fields->has(name)) continue;
    if (!options.forwarded_proto.empty() && equalsIgnoreCase(name, "x-forwarded-proto")) continue;
    appendField(out, name, field.value);
  }
  if (extra_fields != nullptr) appendFields(out, *extra_fields);

  switch (head.framing) {
    case BodyFraming::kContentLength:
      out.append("Content-Length: ");
      appendDecimal(out, head.content_length);
      out.append("\r\n");
      break;
    case BodyFraming::kChunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    default: break;
  }
  if (!options.client_address.empty()) {
    if (!forwarded_for.empty()) forwarded_for += ", ";
    forwarded_for += options.client_address;
  }
  if (!forwarded_for.empty()) appendField(out, "X-Forwarded-For", forwarded_for);
  if (!options.forwarded_proto.empty()) appendField(out, "X-Forwarded-Proto", options.forwarded_proto);
  out.append("\r\n");
}

void removeHopByHop(Fields& fields) {
  // The names are views into the field text, which removing lines leaves in place.
  const ConnectionNames named(fields);
  fields.removeIf([&named](const Field& field) {
    return isHopByHopField(field.name) || (named.contains(field.name) && !isProtectedField(field.name));
  });
}

void appendStatusLine(std::string& out, int status) {
  if (status == 200) {  // nearly every answer: one append
    out.append("HTTP/1.1 200 OK\r\n");
    return;
  }
  out.append("HTTP/1.1 ");
  appendDecimal(out, static_cast<uint64_t>(status));
  out.push_back(' ');
  out.append(reasonPhrase(status));
  out.append("\r\n");
}

void appendFields(std::string& out, const Fields& fields) {
  for (const Field& field : fields.all()) appendField(out, field.name, field.value);
}

void appendChunk(std::string& out, std::string_view data) {
  if (data.empty()) return;  // an empty chunk would be the last-chunk
  char buffer[17];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), data.size(), 16);
  (void)ec;
  out.append(buffer, end);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

void appendLastChunk(std::string& out) { out.append("0\r\n\r\n"); }

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace ec::http
