#pragma once
// Session: one HTTP/2 server connection over nghttp2, transport-free (bytes in with
// receive(), frames out with takeOutput()). It advertises the limits of wikimedia-traffic.md
// §9 (100 concurrent streams, 64 KiB initial window, 4 KiB header table, the header list
// size; all configurable, `http2:`) and enforces per-connection budgets against the floods of
// http-hardening.md §F 27: rapid reset, CONTINUATION floods, HPACK bombs, PING, SETTINGS,
// empty DATA and WINDOW_UPDATE floods each end the connection with GOAWAY ENHANCE_YOUR_CALM
// and are reported once. A request header list merely over max_header_list_size is reported
// per stream (the owner answers 431); only kHpackBombFactor times the limit is a bomb.

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "h2/block_pool.h"
#include "h2/request_conversion.h"

namespace ec::h2 {

enum class CalmReason : uint8_t {
  kRapidReset,
  kContinuationFlood,
  kHpackBomb,
  kPingFlood,
  kSettingsFlood,
  kEmptyDataFlood,
  kWindowUpdateFlood,
  kCount
};
const char* calmReasonName(CalmReason reason);

struct SessionLimits {
  uint32_t max_concurrent_streams = 100;
  uint32_t initial_window_size = 65535;
  uint32_t header_table_size = 4096;
  uint32_t max_header_list_size = 65536;  // decoded bytes (name + value + 32 per field)
  // A header block decoding to this many times max_header_list_size is an HPACK bomb.
  static constexpr uint32_t kHpackBombFactor = 4;
  uint32_t max_continuations = 16;        // CONTINUATION frames in one header block
  // Token buckets: burst, then refill per second.
  uint32_t reset_burst = 200, reset_rate = 100;
  uint32_t ping_burst = 50, ping_rate = 10;
  uint32_t settings_burst = 50, settings_rate = 10;
  uint32_t empty_data_burst = 200, empty_data_rate = 100;
  uint32_t window_update_burst = 1000, window_update_rate = 500;
};

// What the connection owner does with a session's events.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // A request's header block is complete (end_stream: no body follows). `fields` live in the
  // session's reused block buffer: valid during the call only.
  virtual void onRequestHeaders(int32_t stream, std::span<const HeaderField> fields,
                                bool end_stream) = 0;
  // A request's header block decoded to more than max_header_list_size: its fields were
  // dropped; the stream stays open for an answer (431). Any body that follows is delivered.
  virtual void onRequestHeadersTooLarge(int32_t stream, bool end_stream) = 0;
  // Body bytes of a request; the owner calls Session::consume() once it has passed them on.
  virtual void onRequestData(int32_t stream, std::string_view data) = 0;
  virtual void onRequestEnd(int32_t stream) = 0;
  virtual void onStreamClosed(int32_t stream, uint32_t error_code) = 0;
  // Fills `buffer` with up to `length` body bytes of a response; returns the count, sets
  // `eof` at the end; returns -1 when nothing is available yet (the stream is deferred until
  // resumeData()).
  virtual long readResponseBody(int32_t stream, uint8_t* buffer, size_t length, bool& eof) = 0;
  virtual void onCalm(CalmReason reason) = 0;
  virtual void onMalformed() = 0;  // a frame or header block nghttp2 refused (stream reset)
};

class Session {
 public:
  // `now_ms` gives monotonic milliseconds (the connection's loop time).
  Session(SessionHandler& handler, const SessionLimits& limits, std::function<int64_t()> now_ms);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Sends the server preface (SETTINGS). Call once before anything else.
  bool start();
  // Feeds received bytes. False when the connection is beyond saving (protocol error or a
  // flood): send what takeOutput() still gives, then close.
  bool receive(std::string_view bytes);
  // Appends frames ready to send to `out`, at most about `budget` bytes.
  void takeOutput(std::string& out, size_t budget);
  bool wantsRead() const;
  bool wantsWrite() const;
  bool calm() const { return calm_; }

  // Responses.
  bool submitResponse(int32_t stream, const std::vector<HeaderField>& headers, bool has_body);
  // The same from name/value pairs in the caller's memory (nghttp2 copies them before
  // returning): the hot path builds them without an allocation per field.
  bool submitResponse(int32_t stream, const nghttp2_nv* nva, size_t count, bool has_body);
  void resumeData(int32_t stream);
  // Request body bytes the owner has passed on (or dropped): reopens the stream's and the
  // connection's flow-control windows. The session never reopens them by itself, so a body
  // arrives only as fast as the origin takes it (a slow origin holds the client back).
  void consume(int32_t stream, size_t bytes);
  void resetStream(int32_t stream, uint32_t error_code);
  // Graceful: GOAWAY NO_ERROR with the last stream seen; streams in flight finish.
  void shutdown();
  // GOAWAY with `error_code`; no more streams or frames (takeOutput still gives the GOAWAY).
  void terminate(uint32_t error_code);
  // What the client's flow control lets us send now: on the stream (its window, 0 or less
  // when exhausted; -1 when the stream is unknown) and on the connection.
  int32_t streamSendWindow(int32_t stream) const;
  int32_t connectionSendWindow() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ms = 0;
  };
  bool spend(Bucket& bucket, uint32_t burst, uint32_t rate);
  void enhanceYourCalm(CalmReason reason);

  static int onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user);
  static int onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_len, const uint8_t* value, size_t value_len, uint8_t flags,
                      void* user);
  static int onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int onDataChunk(nghttp2_session*, uint8_t flags, int32_t stream, const uint8_t* data,
                         size_t len, void* user);
  static int onStreamClose(nghttp2_session*, int32_t stream, uint32_t error_code, void* user);
  static int onInvalidFrame(nghttp2_session*, const nghttp2_frame* frame, int error, void* user);
  static ssize_t readBody(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source* source, void* user);

  SessionHandler& handler_;
  SessionLimits limits_;
  std::function<int64_t()> now_ms_;
  BlockPool pool_;  // nghttp2's allocator for this session; outlives session_
  nghttp2_session* session_ = nullptr;
  bool calm_ = false;
  bool failed_ = false;
  // The header block being received.
  int32_t block_stream_ = 0;
  uint32_t block_continuations_ = 0;
  uint64_t block_bytes_ = 0;
  bool block_oversized_ = false;  // over max_header_list_size: fields dropped, 431 follows
  // The request header block being received. HTTP/2 never interleaves header blocks
  // (RFC 9113 §4.3), so one buffer serves every stream; its strings keep their capacity from
  // one request to the next.
  int32_t fields_stream_ = 0;
  size_t field_count_ = 0;
  std::vector<HeaderField> fields_;
  Bucket resets_, pings_, settings_, empty_data_, window_updates_;
};

}  // namespace ec::h2
