#pragma once
// The request/response model shared by the codec, the cache policy and the proxy. Heads hold
// views (see Fields); the parser fills the derived members so no later phase re-parses framing.

#include <cstdint>
#include <string_view>

#include "http/fields.h"

namespace ec::http {

enum class Method : uint8_t {
  kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kConnect, kTrace, kPurge, kOther
};
enum class Version : uint8_t { kHttp10, kHttp11 };
enum class TargetForm : uint8_t { kOrigin, kAbsolute, kAuthority, kAsterisk };
// How the message body is delimited (RFC 9112 §6.3).
enum class BodyFraming : uint8_t { kNone, kContentLength, kChunked, kCloseDelimited };

Method methodFromToken(std::string_view token);
std::string_view methodName(Method method);
// Safe methods never invalidate (RFC 9110 §9.2.1).
bool isSafeMethod(Method method);

struct RequestHead {
  Method method = Method::kGet;
  std::string_view method_text;  // as sent (uppercase token)
  std::string_view target;       // request-target as sent
  Version version = Version::kHttp11;
  TargetForm target_form = TargetForm::kOrigin;
  Fields fields;

  // Derived by the parser.
  std::string_view scheme;     // "http"/"https" for absolute-form, else empty
  std::string_view authority;  // absolute-form authority wins over Host (RFC 9112 §3.2.2)
  std::string_view path;       // path and query: origin-form target, or absolute-form's path ("/" if empty)
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;        // after this request, per version and Connection
  bool expect_continue = false;  // Expect: 100-continue

  void clear() {
    method = Method::kGet;
    method_text = target = scheme = authority = path = {};
    version = Version::kHttp11;
    target_form = TargetForm::kOrigin;
    fields.clear();
    framing = BodyFraming::kNone;
    content_length = 0;
    keep_alive = true;
    expect_continue = false;
  }
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  Version version = Version::kHttp11;
  Fields fields;

  // Derived by the parser (needs the request method: HEAD and 304 have no body).
  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;

  void clear() {
    status = 0;
    reason = {};
    version = Version::kHttp11;
    fields.clear();
    framing = BodyFraming::kNone;
    content_length = 0;
    keep_alive = true;
  }
};

}  // namespace ec::http
