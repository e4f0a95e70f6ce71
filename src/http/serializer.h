#pragma once
// Serializer: writes canonical HTTP/1.1 toward the origin and the client. The proxy never
// forwards the bytes it received: it re-serialises a parsed head, so whatever ambiguity the
// parser tolerated (none, ideally) cannot reach the next hop. Owns the hop-by-hop rules
// (RFC 9110 §7.6.1), including the protection of critical fields a client names in Connection.

#include <string>
#include <string_view>

#include "http/fields.h"
#include "http/message.h"

namespace ec::http {

struct ForwardOptions {
  std::string_view client_address;  // appended to X-Forwarded-For
  // Drop X-Forwarded-Host, X-Host, X-Original-URL, X-Rewrite-URL, X-HTTP-Method-Override: origins
  // that honour them would key on input the cache does not (cache poisoning).
  bool strip_unkeyed_overrides = true;
  // When set ("https" or "http"): replaces any X-Forwarded-Proto the client sent, so an origin
  // can trust it to say how the client reached this node.
  std::string_view forwarded_proto;
};

// Appends "METHOD path HTTP/1.1", "Host: <authority>" (from the head, never a second Host), every
// end-to-end field in order, then the framing field for head.framing, then X-Forwarded-For
// (existing values + ", " + client), then the empty line. `extra_fields` (e.g. If-None-Match for
// a revalidation) are added after the end-to-end fields and replace request fields of the same
// name.
void appendOriginRequest(std::string& out, const RequestHead& head, const ForwardOptions& options,
                         const Fields* extra_fields = nullptr);

// True for a field that never crosses a hop: Connection, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Upgrade, Trailer, Proxy-Authorization, Proxy-Authenticate.
bool isHopByHopField(std::string_view name);
// True for fields a Connection header may not remove: Host, Content-Length, Authorization,
// X-Forwarded-For, Cookie, Transfer-Encoding (framing is ours to decide).
bool isProtectedField(std::string_view name);
// Removes hop-by-hop fields, including those named in Connection except the protected ones.
void removeHopByHop(Fields& fields);

// Appends the status line "HTTP/1.1 <status> <reason>\r\n".
void appendStatusLine(std::string& out, int status);
// Appends "name: value\r\n" for every field.
void appendFields(std::string& out, const Fields& fields);

void appendChunk(std::string& out, std::string_view data);  // "<hex>\r\n<data>\r\n"
void appendLastChunk(std::string& out);                     // "0\r\n\r\n"
// The RFC 9110 reason phrase, or "Unknown" for an unregistered status.
std::string_view reasonPhrase(int status);

}  // namespace ec::http
