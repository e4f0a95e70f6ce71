#include "h2/session.h"

#include <algorithm>
#include <cstring>

namespace ec::h2 {
namespace {

Session* self(void* user) { return static_cast<Session*>(user); }

}  // namespace

const char* calmReasonName(CalmReason reason) {
  switch (reason) {
    case CalmReason::kRapidReset: return "rapid_reset";
    case CalmReason::kContinuationFlood: return "continuation_flood";
    case CalmReason::kHpackBomb: return "hpack_bomb";
    case CalmReason::kPingFlood: return "ping_flood";
    case CalmReason::kSettingsFlood: return "settings_flood";
    case CalmReason::kEmptyDataFlood: return "empty_data_flood";
    case CalmReason::kWindowUpdateFlood: return "window_update_flood";
    case CalmReason::kCount: break;
  }
  return "unknown";
}

Session::Session(SessionHandler& handler, const SessionLimits& limits,
                 std::function<int64_t()> now_ms)
    : handler_(handler), limits_(limits), now_ms_(std::move(now_ms)) {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks, &Session::onBeginFrame);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Session::onBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &Session::onHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Session::onFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Session::onDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Session::onStreamClose);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, &Session::onInvalidFrame);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // Our budgets fire first; nghttp2's own are the backstop.
  nghttp2_option_set_max_continuations(option, limits_.max_continuations * 4);
  nghttp2_option_set_max_settings(option, 64);
  nghttp2_option_set_max_outbound_ack(option, 1000);
  // Windows reopen as the owner consumes request bodies (consume()), not on receipt.
  nghttp2_option_set_no_auto_window_update(option, 1);
  // The request checks of RFC 9113 §8 are ours (request_conversion.cc, which never trusted
  // nghttp2's: docs/design/http2-library.md); nghttp2 repeating them per header field cost
  // ~4% of a hit's instructions. Framing, HPACK and stream states stay nghttp2's.
  nghttp2_option_set_no_http_messaging(option, 1);
  nghttp2_session_server_new3(&session_, callbacks, this, option, pool_.mem());
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  const double start = 0;
  for (Bucket* bucket : {&resets_, &pings_, &settings_, &empty_data_, &window_updates_}) {
    bucket->tokens = start;
    bucket->last_ms = -1;
  }
}

Session::~Session() { nghttp2_session_del(session_); }

bool Session::start() {
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, limits_.initial_window_size},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, limits_.header_table_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, limits_.max_header_list_size},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings,
                                 sizeof settings / sizeof settings[0]) == 0;
}

bool Session::spend(Bucket& bucket, uint32_t burst, uint32_t rate) {
  const int64_t now = now_ms_();
  if (bucket.last_ms < 0) {
    bucket.tokens = burst;
  } else {
    bucket.tokens = std::min<double>(burst, bucket.tokens + (now - bucket.last_ms) * rate / 1000.0);
  }
  bucket.last_ms = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

void Session::enhanceYourCalm(CalmReason reason) {
  if (calm_) return;
  calm_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  handler_.onCalm(reason);
}

bool Session::receive(std::string_view bytes) {
  if (calm_ || failed_) return false;
  const ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                             bytes.size());
  if (calm_) return false;
  if (n < 0) {
    failed_ = true;
    // A fatal protocol error: nghttp2 has queued GOAWAY where it could.
    if (n == NGHTTP2_ERR_FLOODED) enhanceYourCalm(CalmReason::kPingFlood);
    return false;
  }
  return true;
}

void Session::takeOutput(std::string& out, size_t budget) {
  while (out.size() < budget) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) return;
    out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

bool Session::wantsRead() const { return !calm_ && !failed_ && nghttp2_session_want_read(session_) != 0; }
bool Session::wantsWrite() const { return nghttp2_session_want_write(session_) != 0; }

bool Session::submitResponse(int32_t stream, const std::vector<HeaderField>& headers, bool has_body) {
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size());
  for (const HeaderField& field : headers) {
    nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(field.name.data())),
                             reinterpret_cast<uint8_t*>(const_cast<char*>(field.value.data())),
                             field.name.size(), field.value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return submitResponse(stream, nva.data(), nva.size(), has_body);
}

bool Session::submitResponse(int32_t stream, const nghttp2_nv* nva, size_t count, bool has_body) {
  nghttp2_data_provider provider{};
  provider.read_callback = &Session::readBody;
  return nghttp2_submit_response(session_, stream, nva, count, has_body ? &provider : nullptr) == 0;
}

void Session::resumeData(int32_t stream) { nghttp2_session_resume_data(session_, stream); }

void Session::consume(int32_t stream, size_t bytes) {
  if (bytes > 0) nghttp2_session_consume(session_, stream, bytes);
}

void Session::resetStream(int32_t stream, uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream, error_code);
}

void Session::shutdown() {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void Session::terminate(uint32_t error_code) {
  nghttp2_session_terminate_session(session_, error_code);
}

int32_t Session::streamSendWindow(int32_t stream) const {
  const int32_t window = nghttp2_session_get_stream_remote_window_size(session_, stream);
  return window < 0 ? -1 : window;
}

int32_t Session::connectionSendWindow() const {
  return nghttp2_session_get_remote_window_size(session_);
}

int Session::onBeginFrame(nghttp2_session*, const nghttp2_frame_hd* hd, void* user) {
  Session* s = self(user);
  const SessionLimits& l = s->limits_;
  bool ok = true;
  CalmReason reason = CalmReason::kCount;
  switch (hd->type) {
    case NGHTTP2_HEADERS:
      s->block_stream_ = hd->stream_id;
      s->block_continuations_ = 0;
      s->block_bytes_ = 0;
      s->block_oversized_ = false;
      break;
    case NGHTTP2_CONTINUATION:
      if (++s->block_continuations_ > l.max_continuations) {
        ok = false;
        reason = CalmReason::kContinuationFlood;
      }
      break;
    case NGHTTP2_RST_STREAM:
      ok = s->spend(s->resets_, l.reset_burst, l.reset_rate);
      reason = CalmReason::kRapidReset;
      break;
    case NGHTTP2_PING:
      if (!(hd->flags & NGHTTP2_FLAG_ACK)) {
        ok = s->spend(s->pings_, l.ping_burst, l.ping_rate);
        reason = CalmReason::kPingFlood;
      }
      break;
    case NGHTTP2_SETTINGS:
      if (!(hd->flags & NGHTTP2_FLAG_ACK)) {
        ok = s->spend(s->settings_, l.settings_burst, l.settings_rate);
        reason = CalmReason::kSettingsFlood;
      }
      break;
    case NGHTTP2_DATA:
      if (hd->length == 0 && !(hd->flags & NGHTTP2_FLAG_END_STREAM)) {
        ok = s->spend(s->empty_data_, l.empty_data_burst, l.empty_data_rate);
        reason = CalmReason::kEmptyDataFlood;
      }
      break;
    case NGHTTP2_WINDOW_UPDATE:
      ok = s->spend(s->window_updates_, l.window_update_burst, l.window_update_rate);
      reason = CalmReason::kWindowUpdateFlood;
      break;
    default:
      break;
  }
  if (!ok) {
    s->enhanceYourCalm(reason);
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

int Session::onBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  Session* s = self(user);
  s->fields_stream_ = frame->hd.stream_id;
  s->field_count_ = 0;
  return 0;
}

int Session::onHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                      size_t name_len, const uint8_t* value, size_t value_len, uint8_t,
                      void* user) {
  Session* s = self(user);
  s->block_bytes_ += name_len + value_len + 32;
  const uint64_t limit = s->limits_.max_header_list_size;
  if (s->block_bytes_ > limit * SessionLimits::kHpackBombFactor) {
    s->enhanceYourCalm(CalmReason::kHpackBomb);
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // trailers: checked for size, otherwise dropped
  }
  if (frame->hd.stream_id != s->fields_stream_) return 0;
  if (s->block_bytes_ > limit) {
    // Decoding goes on (the HPACK table must stay in step) but nothing more is kept.
    s->field_count_ = 0;
    s->block_oversized_ = true;
    return 0;
  }
  if (s->field_count_ == s->fields_.size()) s->fields_.emplace_back();
  HeaderField& field = s->fields_[s->field_count_++];
  field.name.assign(reinterpret_cast<const char*>(name), name_len);  // reuses its capacity
  field.value.assign(reinterpret_cast<const char*>(value), value_len);
  return 0;
}

int Session::onFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  Session* s = self(user);
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS: {
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (frame->hd.stream_id != s->fields_stream_) return 0;
        s->fields_stream_ = 0;
        if (s->block_oversized_) {
          s->block_oversized_ = false;
          s->handler_.onRequestHeadersTooLarge(frame->hd.stream_id, end_stream);
          return 0;
        }
        s->handler_.onRequestHeaders(frame->hd.stream_id,
                                     std::span<const HeaderField>(s->fields_.data(), s->field_count_),
                                     end_stream);
      } else if (end_stream) {
        s->handler_.onRequestEnd(frame->hd.stream_id);  // after trailers
      } else {
        // Trailers must end the stream (RFC 9113 §8.1); nghttp2's messaging checks, which
        // used to refuse this, are off.
        nghttp2_submit_rst_stream(s->session_, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                  NGHTTP2_PROTOCOL_ERROR);
        s->handler_.onMalformed();
      }
      break;
    }
    case NGHTTP2_DATA:
      if (end_stream) s->handler_.onRequestEnd(frame->hd.stream_id);
      break;
    default:
      break;
  }
  return 0;
}

int Session::onDataChunk(nghttp2_session*, uint8_t, int32_t stream, const uint8_t* data,
                         size_t len, void* user) {
  self(user)->handler_.onRequestData(stream, std::string_view(reinterpret_cast<const char*>(data), len));
  return 0;
}

int Session::onStreamClose(nghttp2_session*, int32_t stream, uint32_t error_code, void* user) {
  Session* s = self(user);
  if (s->fields_stream_ == stream) s->fields_stream_ = 0;
  s->handler_.onStreamClosed(stream, error_code);
  return 0;
}

int Session::onInvalidFrame(nghttp2_session*, const nghttp2_frame*, int, void* user) {
  self(user)->handler_.onMalformed();
  return 0;
}

ssize_t Session::readBody(nghttp2_session*, int32_t stream, uint8_t* buf, size_t length,
                          uint32_t* data_flags, nghttp2_data_source*, void* user) {
  bool eof = false;
  const long n = self(user)->handler_.readResponseBody(stream, buf, length, eof);
  if (n < 0) return NGHTTP2_ERR_DEFERRED;
  if (eof) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return n;
}

}  // namespace ec::h2
