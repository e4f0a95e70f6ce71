#pragma once
// Downstream: what a Transaction needs from the client side it answers. ClientConnection (one
// HTTP/1.1 connection, one transaction at a time) and H2Stream (one HTTP/2 stream of an
// H2Connection) implement it, so every phase runs unchanged over HTTP/1.1 and HTTP/2: the
// transaction always writes an HTTP/1.1 response into output(); an HTTP/2 stream turns it
// into HEADERS and DATA frames.

#include <string>
#include <string_view>

#include "proxy/output_queue.h"

namespace ec::tls {
struct TlsInfo;
}

namespace ec::proxy {

class Downstream {
 public:
  virtual ~Downstream() = default;
  virtual OutputQueue& output() = 0;
  // Writes what is queued now; the transaction gets onWritable() when the queue drains.
  virtual void flush() = 0;
  // The response is fully queued. keep_alive=false closes an HTTP/1.1 connection after it.
  virtual void transactionFinished(bool keep_alive) = 0;
  // Stop reading the request body for a while (the origin is slow to take it).
  virtual void pauseBody(bool paused) = 0;
  virtual const std::string& peerIp() const = 0;
  // The raw HTTP/1.1 bytes of the current request head (for a fetch that outlives the client).
  virtual std::string_view rawHead() const = 0;
  virtual bool closing() const = 0;
  // Abort: drop queued output and end the response now (an object failed mid-stream).
  virtual void abortNow() = 0;
  // True when the client came over TLS.
  virtual bool secure() const = 0;
  // Bytes a pass-through answer may queue in output() before its origin is paused (reading
  // resumes below half): 1 MiB on HTTP/1.1; an HTTP/2 stream stages less here and holds its
  // ready bytes under its connection's bound (http2.max_response_buffer).
  static constexpr uint64_t kHighWatermark = 1 << 20;
  virtual uint64_t outputHighWatermark() const { return kHighWatermark; }
  // The TLS session's facts (the access log's `tls` field); nullptr on plain HTTP.
  virtual const tls::TlsInfo* tlsInfo() const { return nullptr; }
};

}  // namespace ec::proxy
