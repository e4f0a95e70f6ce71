#pragma once
// Helpers shared by the cache unit tests: building requests and responses whose field views
// stay valid (every string is owned by the Fields).

#include <initializer_list>
#include <string_view>
#include <utility>

#include "http/message.h"

namespace ec::cache::testing {

using Header = std::pair<std::string_view, std::string_view>;

inline void addAll(http::Fields& fields, std::initializer_list<Header> headers) {
  for (const auto& [name, value] : headers) fields.addOwned(name, value);
}

inline http::RequestHead makeRequest(http::Method method, std::string_view path,
                                     std::initializer_list<Header> headers = {}) {
  http::RequestHead request;
  request.method = method;
  request.method_text = http::methodName(method);
  request.target = path;
  request.path = path;
  request.authority = "example.test";
  addAll(request.fields, headers);
  return request;
}

inline http::ResponseHead makeResponse(int status, std::initializer_list<Header> headers = {}) {
  http::ResponseHead response;
  response.status = status;
  addAll(response.fields, headers);
  return response;
}

inline http::Fields makeFields(std::initializer_list<Header> headers) {
  http::Fields fields;
  addAll(fields, headers);
  return fields;
}

}  // namespace ec::cache::testing
