#pragma once
// ClientConnection: one downstream HTTP/1.1 connection. Reads and parses requests (one at a
// time; pipelined bytes wait in the buffer), feeds request bodies to the transaction, writes
// what the transaction queues, and enforces the header timeout (slowloris -> 408), the body
// timeout and minimum body rate (slow POST -> 408 or close), the send timeout and minimum send
// rate (slow read -> close), the idle timeout and keep-alive. A parse error gets its status and a close; nothing reaches an origin.
// Bytes move through a net::Transport: the socket itself, or a TLS stream whose handshake
// must finish within the header timeout.

#include <memory>
#include <string>

#include "h2/send_progress.h"
#include "http/body_decoder.h"
#include "http/message.h"
#include "http/request_parser.h"
#include "net/buffer.h"
#include "net/event_loop.h"
#include "net/socket.h"
#include "net/transport.h"
#include "proxy/downstream.h"
#include "proxy/output_queue.h"
#include "proxy/runtime_config.h"

namespace ec::tls {
class TlsTransport;
}

namespace ec::proxy {

class Transaction;
class WorkerContext;

// Makes the socket's close a reset (SO_LINGER 0): what the kernel still buffers for a client
// that timed out (slow read) is dropped instead of sent on for as long as it reads.
void resetOnClose(int fd);

class ClientConnection final : public net::IoHandler, public Downstream {
 public:
  // Called when the connection is finished and may be deleted (deferred by the owner).
  using OnClosed = std::function<void(ClientConnection*)>;
  // Called when ALPN chose h2: the handler takes the socket (releaseFd, releaseTransport,
  // takeInput) for an H2Connection; this connection is then finished (deleted by the owner).
  using OnH2 = std::function<void(ClientConnection*)>;

  // `transport` reads and writes `fd` (plain or TLS); `tls` is the same object when it is TLS.
  ClientConnection(WorkerContext& worker, net::UniqueFd fd, std::unique_ptr<net::Transport> transport,
                   tls::TlsTransport* tls, std::string peer_ip, OnClosed on_closed);
  ~ClientConnection() override;

  void start();
  void onIo(uint32_t events) override;

  // --- used by Transaction ---
  // Downstream (see downstream.h).
  OutputQueue& output() override { return output_; }
  void flush() override;
  void transactionFinished(bool keep_alive) override;
  void pauseBody(bool paused) override;
  const std::string& peerIp() const override { return peer_ip_; }
  std::string_view rawHead() const override;
  bool closing() const override { return closing_; }
  void abortNow() override;
  // True on a TLS listener; tls() then has the session's facts.
  bool secure() const override { return tls_ != nullptr; }
  const tls::TlsTransport* tls() const { return tls_; }
  const tls::TlsInfo* tlsInfo() const override;
  // Graceful shutdown: close now if idle, else after the current response.
  void drain();
  void setH2Handler(OnH2 handler) { on_h2_ = std::move(handler); }
  net::UniqueFd releaseFd() { return std::move(fd_); }
  std::unique_ptr<net::Transport> releaseTransport() { return std::move(transport_); }
  std::string takeInput();

  static constexpr size_t kBufferedBodyBytes = 1 << 20;  // request bodies checked whole

 private:
  void readInput();
  bool handOverIfH2();
  void processInput();
  void startRequest();
  void startTransaction();
  void feedBody();
  void respondError(int status, const char* detail, bool count_parse_error, int parse_kind);
  void closeSoon();
  void finishClose();
  void updateInterest();
  // (Re)starts the idle or header deadline. The timer itself moves only when the deadline
  // comes earlier than where it is armed; one that fires early finds the deadline moved and
  // re-arms (onHeaderTimer), so a keep-alive connection touches the timer heap about once per
  // idle_timeout instead of twice per request.
  void armHeaderTimer();
  void onHeaderTimer();
  void armHeaderTimerAt(MonoTime deadline);
  // After each flush: counts the bytes, arms the send check while bytes wait for the client,
  // and once they are all out, hands the connection to the idle timer.
  void noteSendProgress(uint64_t written);
  // limits.send_timeout / min_send_rate and limits.body_timeout / min_body_rate: a timer armed
  // once while bytes wait (an answer for the client, a body from it), firing every
  // timeout / kChecksPerTimeout and comparing progress counts (h2::ProgressWatch): no timer
  // operation per write or read.
  void armSendTimer();
  void checkSendProgress();
  void armBodyTimer();
  void checkBodyProgress();
  int64_t nowMs() const;

  WorkerContext& worker_;
  net::UniqueFd fd_;
  std::unique_ptr<net::Transport> transport_;
  tls::TlsTransport* tls_ = nullptr;
  std::string peer_ip_;
  OnClosed on_closed_;
  OnH2 on_h2_;
  bool alpn_checked_ = false;
  RuntimeConfigPtr config_;
  uint64_t config_generation_ = 0;  // SharedState::configGeneration() when config_ was taken
  net::Buffer input_;
  http::RequestParser parser_;
  http::RequestHead head_;
  http::BodyDecoder body_decoder_;
  bool body_active_ = false;
  bool body_paused_ = false;
  bool body_buffering_ = false;
  std::string buffered_body_;
  std::string head_copy_;  // the head re-homed when a request has a body (input may move)
  OutputQueue output_;
  std::unique_ptr<Transaction> transaction_;
  // The last finished transaction: it may still be on the stack when it finishes, so it is
  // destroyed when the next one finishes or the connection goes (no allocation to defer it).
  std::unique_ptr<Transaction> retired_transaction_;
  bool closing_ = false;        // close once output drains
  bool closed_ = false;
  bool want_write_ = false;
  bool read_eof_ = false;
  bool header_deadline_armed_ = false;
  bool read_event_while_busy_ = false;  // the socket reported input while a request was answered
  uint32_t interest_ = 0;
  uint64_t requests_served_ = 0;
  net::Timer timer_;       // header deadline or idle keep-alive (at or before header_deadline_)
  // The deadline timer_ stands for while header_timer_live_: header_timeout when
  // header_timer_partial_ (or a TLS handshake), idle_timeout otherwise.
  MonoTime header_deadline_{};
  bool header_timer_live_ = false;
  bool header_timer_partial_ = false;
  net::Timer send_timer_;  // limits.send_timeout while an answer waits for the client
  h2::ProgressWatch send_watch_;
  uint64_t send_progress_ = 0;  // bytes the client took
  bool send_waiting_ = false;   // the last flush left bytes waiting
  net::Timer body_timer_;       // limits.body_timeout while a request body is read
  h2::ProgressWatch body_watch_;
  uint64_t input_progress_ = 0;  // bytes read from the client
  std::shared_ptr<bool> alive_token_ = std::make_shared<bool>(true);
};

}  // namespace ec::proxy
