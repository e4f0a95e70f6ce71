#pragma once
// OriginExchange: one HTTP/1.1 request/response with an origin over a pooled keep-alive
// connection: connect (or reuse), send the canonical head and any body, parse the response
// (skipping 1xx), stream the body to a listener, and hand the connection back to the pool only
// when the response ended cleanly. Toward a TLS origin a new connection first runs its
// handshake (within the connect timeout); bytes then go through the TLS stream. Timeouts:
// connect, sending (between bytes while the origin takes the request), first byte (from the
// end of the request), between bytes.

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "http/body_decoder.h"
#include "http/message.h"
#include "http/parse_limits.h"
#include "http/response_parser.h"
#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/socket.h"
#include "upstream/origin_pool.h"

namespace ec::upstream {

class OriginPool;

class ExchangeListener {
 public:
  virtual ~ExchangeListener() = default;
  // The final (non-1xx) response head; views are valid until the exchange is destroyed or
  // more body is read, so copy what is needed.
  virtual void onResponseHead(const http::ResponseHead& head) = 0;
  virtual void onResponseData(std::string_view data) = 0;
  virtual void onResponseComplete() = 0;
  // Refused/reset/timeout/parse error; nothing more is delivered after this.
  virtual void onExchangeError(const Error& error, bool response_started) = 0;
  // Everything queued with sendBody() went out (request-body backpressure).
  virtual void onRequestBodyDrained() {}
};

class OriginExchange final : public net::IoHandler {
 public:
  OriginExchange(OriginPool& pool, ExchangeListener& listener);
  ~OriginExchange() override;

  // head_bytes: the serialised request head (http::appendOriginRequest). has_body: more bytes
  // follow through sendBody()/finishBody(). method: the request method (HEAD has no body).
  void start(std::string head_bytes, http::Method method, bool has_body);
  void sendBody(std::string_view data);
  void finishBody();
  size_t pendingOutputBytes() const { return output_.size() - output_sent_; }
  // Backpressure from a slow reader.
  void pauseReading();
  void resumeReading();
  // Detaches the listener and drops the connection (not reused).
  void abort();
  // Hands the rest of the response to another listener (a fetch passing it to its client).
  void setListener(ExchangeListener& listener) { listener_ = &listener; }
  const http::ResponseHead& responseHead() const { return head_; }

  void onIo(uint32_t events) override;

 private:
  friend class OriginPool;
  enum class Phase { kWaitingForConnection, kConnecting, kHandshaking, kSending, kReceivingHead, kReceivingBody, kDone };
  void connectionReady(OriginConnection connection, bool reused);
  void onConnected();
  void startHandshake();
  void continueHandshake();
  net::IoResult readSome(char* buffer, size_t capacity);
  net::IoResult writeSome(const char* data, size_t length);
  void flushOutput();
  void readResponse();
  void processInput();
  void fail(Error error);
  void finishClean();
  void armTimer(Millis timeout, ErrorKind kind, const char* what);
  // Sets the epoll mask, skipping the system call when it is already registered as such.
  void setInterest(uint32_t events);
  // Before the response: send timeout while the origin takes the request, none while the
  // client's body is still coming, first-byte timeout once everything went out.
  void armRequestTimer();
  void updateInterest();
  void releaseConnection(bool reusable);

  OriginPool& pool_;
  ExchangeListener* listener_;
  OriginConnection connection_;
  bool reused_connection_ = false;
  bool retried_ = false;
  Phase phase_ = Phase::kWaitingForConnection;
  http::Method method_ = http::Method::kGet;
  bool request_body_pending_ = false;
  bool paused_ = false;
  std::string head_bytes_;  // kept for one retry on a stale pooled connection
  std::string output_;
  size_t output_sent_ = 0;
  net::Buffer input_;
  http::ResponseParser parser_;
  http::ResponseHead head_;
  http::BodyDecoder decoder_;
  bool response_started_ = false;
  net::Timer timer_;
  // What the armed timer reports when it fires; kept here so the timer's callback captures only
  // `this` and fits std::function's inline storage (no allocation per arm).
  ErrorKind timer_kind_ = ErrorKind::kTimeout;
  const char* timer_what_ = "";
};

}  // namespace ec::upstream
