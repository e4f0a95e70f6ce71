#pragma once
// ParseLimits: the bounds the HTTP/1.1 codec enforces while bytes arrive, each with the status a
// request that exceeds it receives. The config room fills one from the `limits` section.

#include <cstddef>
#include <cstdint>

namespace ec::http {

struct ParseLimits {
  size_t max_request_line = 8192;        // 414 when the request line is longer
  size_t max_field_size = 8192;          // 431 (one field line)
  size_t max_field_count = 100;          // 431
  size_t max_header_bytes = 65536;       // 431 (whole header section incl. request line)
  uint64_t max_body_bytes = 1ull << 30;  // 413 (request bodies; Content-Length or chunked total)
  size_t max_chunk_extension = 1024;     // 400
};

}  // namespace ec::http
