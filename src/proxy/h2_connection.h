#pragma once
// H2Connection: one downstream HTTP/2 connection (ALPN h2 over TLS). An h2::Session decodes
// frames; each request stream becomes an H2Stream, which builds the canonical HTTP/1.1 request
// head straight from the fields with the downgrade checks and the strict HTTP/1.1 parser's
// (h2/request_conversion.h; the text only when an origin fetch needs it) and runs
// an ordinary Transaction on it, so caching is identical over HTTP/1.1 and HTTP/2. The
// transaction writes an HTTP/1.1 response; the stream turns it into HEADERS and DATA (its own
// well-formed heads by a short scan, anything unusual by the full response parser).
// Streams are recycled per connection (a free list): a stream's buffers, field lists and
// output queue keep their capacity, so a hit allocates no stream state in steady state.
// A request for a host the connection's certificate does not cover gets 421 (RFC 9113 §9.1.1).

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "h2/send_progress.h"
#include "h2/session.h"
#include "http/body_decoder.h"
#include "http/message.h"
#include "http/request_parser.h"
#include "http/response_parser.h"
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

class H2Connection;
class Transaction;
class WorkerContext;

class H2Stream final : public Downstream {
 public:
  H2Stream(H2Connection& connection, int32_t id);
  ~H2Stream() override;

  int32_t id() const { return id_; }
  // Back to the free list: drops the transaction and what the stream still references
  // (object bodies), keeps small buffers' capacity. reuse() starts the next life.
  void recycle();
  void reuse(int32_t id);
  // The connection's deferred refill: pull more of the response, wake the transaction.
  void refill();

  // Downstream.
  OutputQueue& output() override { return output_; }
  void flush() override;
  void transactionFinished(bool keep_alive) override;
  // The origin is behind (or caught up): hold back (or reopen) the stream's window.
  void pauseBody(bool paused) override;
  const std::string& peerIp() const override;
  // The request's HTTP/1.1 text, written on the first call (head_ has no text of its own).
  std::string_view rawHead() const override;
  bool closing() const override;
  void abortNow() override;
  bool secure() const override;
  const tls::TlsInfo* tlsInfo() const override;
  uint64_t outputHighWatermark() const override;

  // From the connection.
  void onHeaders(std::span<const h2::HeaderField> fields, bool end_stream);
  // The header list was over http2.max_header_list_size: 431, the connection lives on.
  void onHeadersTooLarge();
  void onData(std::string_view data);
  void onEnd();
  long readBody(uint8_t* buffer, size_t length, bool& eof);
  void detach();  // the stream closed: no more frames, the transaction is dropped
  // Response bytes ready for DATA frames that the client's flow control holds back now.
  bool waitsForClientWindow();
  // One send-progress check (H2Connection's timer): not kFine when this stream has waited on
  // its own exhausted window for limits.send_timeout with no byte, or fewer than
  // limits.min_send_rate allows, moving (once: the caller resets it, and it no longer waits
  // for anything).
  h2::ProgressWatch::Verdict sendStalled(int64_t now_ms);
  // One request-body check (the same timer): true when the body the stream waits for (not
  // held back for a slow origin) stopped or trickled below limits.min_body_rate for
  // limits.body_timeout. The stream has then ended its request: 408 when no answer had
  // started (then RST_STREAM NO_ERROR once it is out, RFC 9113 §8.1), else RST_STREAM CANCEL.
  bool bodyStalled(int64_t now_ms);
  // Response bytes this stream holds copied (counted against http2.max_response_buffer).
  size_t heldBytes() const { return held_; }

 private:
  // GET and HEAD bodies are buffered whole (rare; kept for cacheability), at most this much.
  static constexpr uint64_t kBufferedBodyLimit = uint64_t{1} << 20;
  // A recycled stream keeps buffers up to this capacity (a small response's worth).
  static constexpr size_t kKeptBufferBytes = 16 * 1024;
  void startRequest(std::optional<uint64_t> body_length, std::span<const h2::HeaderField> fields);
  // DATA over content-length or over limits.max_request_body after the request started: reset.
  void refuseBody(bool too_large);
  void respondLocal(int status, std::string_view body);
  void pullResponse();
  void convertResponse();  // response_ -> HEADERS and data_ (pullResponse's second half)
  bool submitHead();
  // The fast path of submitHead() for heads the proxy wrote itself: 1 submitted, 0 not a
  // plain head (the parser decides), -1 incomplete.
  int submitOwnHead();
  void submitPairs(size_t head_bytes);
  // Sets framing_, remaining_ and has_body_ for an own head (submitOwnHead).
  void frameOwnHead(int code, bool has_length, uint64_t length);
  size_t dataLeft() const { return data_.size() - data_at_; }
  // Reports a change of response_ + data_ to the connection's buffer account.
  void account();

  H2Connection& connection_;
  int32_t id_;
  std::vector<h2::HeaderField> fields_;
  std::string request_bytes_;          // what head_'s views point to (h2::buildRequestHead)
  mutable std::string request_text_;  // head_ as HTTP/1.1 text, once rawHead() is asked
  http::RequestHead head_;
  std::string body_;
  bool body_too_large_ = false;
  bool started_ = false;
  // Streaming request body (methods other than GET/HEAD): the transaction started at HEADERS.
  bool streaming_ = false;
  bool body_paused_ = false;
  uint64_t received_ = 0;    // DATA bytes so far
  uint64_t unconsumed_ = 0;  // passed on while paused, window not yet reopened
  std::optional<uint64_t> declared_length_;
  std::unique_ptr<Transaction> transaction_;
  std::unique_ptr<Transaction> retired_;
  OutputQueue output_;
  // Response side: HTTP/1.1 bytes from the transaction, parsed into HEADERS and DATA.
  std::string response_;
  http::ResponseHead response_head_;  // the parser's path only
  http::BodyFraming framing_ = http::BodyFraming::kNone;
  bool head_submitted_ = false;
  bool has_body_ = false;
  http::BodyDecoder decoder_;
  uint64_t remaining_ = 0;  // content-length bodies
  std::string data_;        // body bytes ready for DATA frames, from data_at_ on
  size_t data_at_ = 0;
  bool finished_ = false;   // the transaction queued everything
  bool body_done_ = false;  // every body byte is in data_
  bool deferred_ = false;   // nghttp2 waits for data
  bool detached_ = false;
  bool refill_pending_ = false;
  char status_digits_[3] = {};
  size_t held_ = 0;        // response_ + dataLeft() as last reported to the connection
  uint64_t sent_ = 0;      // body bytes handed to DATA frames
  h2::ProgressWatch send_watch_;
  bool send_timed_out_ = false;  // reset for limits.send_timeout; its RST_STREAM may still wait
  h2::ProgressWatch body_watch_;
  bool body_timed_out_ = false;     // limits.body_timeout ended the request
  bool reset_after_answer_ = false;  // a 408 for body_timeout: RST_STREAM NO_ERROR once it is out
};

// The open streams of a connection by id. Clients open ids in increasing order (RFC 9113
// §5.1.1), so entries are appended in order; a closed stream leaves an empty slot, skipped
// from the front (streams mostly close in the order they opened) and compacted now and then:
// no allocation and no shifting of the others per stream.
class StreamTable {
 public:
  H2Stream* find(int32_t id) const;
  // False when the id is already open.
  bool insert(int32_t id, std::unique_ptr<H2Stream> stream);
  std::unique_ptr<H2Stream> take(int32_t id);  // nullptr when not open
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  template <typename F>
  void forEach(F&& f) const {
    for (size_t i = front_; i < entries_.size(); ++i) {
      if (entries_[i].second) f(*entries_[i].second);
    }
  }
  std::vector<std::unique_ptr<H2Stream>> takeAll();

 private:
  using Entry = std::pair<int32_t, std::unique_ptr<H2Stream>>;
  size_t locate(int32_t id) const;  // first entry at or after id, from front_
  std::vector<Entry> entries_;  // sorted by id; closed ones hold nullptr
  size_t front_ = 0;            // entries before this are all closed
  size_t count_ = 0;
};

class H2Connection final : public net::IoHandler, public h2::SessionHandler {
 public:
  using OnClosed = std::function<void(H2Connection*)>;
  // Closed streams kept for reuse, at most (the default concurrency: a busy connection
  // cycles through about that many).
  static constexpr size_t kFreeStreams = 128;
  H2Connection(WorkerContext& worker, net::UniqueFd fd, std::unique_ptr<net::Transport> transport,
               tls::TlsTransport* tls, std::string peer_ip, OnClosed on_closed);
  ~H2Connection() override;

  // Starts the session; `already_read` are bytes that came with the handshake.
  void start(std::string_view already_read);
  void onIo(uint32_t events) override;
  void drain();

  // h2::SessionHandler.
  void onRequestHeaders(int32_t stream, std::span<const h2::HeaderField> fields,
                        bool end_stream) override;
  void onRequestHeadersTooLarge(int32_t stream, bool end_stream) override;
  void onRequestData(int32_t stream, std::string_view data) override;
  void onRequestEnd(int32_t stream) override;
  void onStreamClosed(int32_t stream, uint32_t error_code) override;
  long readResponseBody(int32_t stream, uint8_t* buffer, size_t length, bool& eof) override;
  void onCalm(h2::CalmReason reason) override;
  void onMalformed() override;

  // Used by streams.
  WorkerContext& worker() { return worker_; }
  const RuntimeConfig& config() const { return *config_; }
  RuntimeConfigPtr configPtr() const { return config_; }
  h2::Session& session() { return session_; }
  const std::string& peerIp() const { return peer_ip_; }
  bool secure() const { return tls_ != nullptr; }
  const tls::TlsTransport* tls() const { return tls_; }
  // `authority` as the request named it (host[:port]); the last answer is kept per connection.
  bool certificateCovers(std::string_view authority);
  bool closing() const { return closing_; }
  void writeSoon();  // frames are ready: write after this event
  // Calls the stream's refill() after this event, if it is still open then (one deferred
  // task per connection and event, not one per stream).
  void refillSoon(int32_t stream);
  // Scratch for a response's HEADERS (lower-cased names, name/value pairs): one per
  // connection, reused by every stream, so submitting a head allocates nothing here.
  std::string& headNames() { return head_names_; }
  // The last own response head scanned on this connection (H2Stream::submitOwnHead): a head
  // with the same bytes (the next hit on the same object) reuses its pairs without a scan.
  struct OwnHeadMemo {
    std::string text;   // the head through its empty line; empty: nothing remembered
    std::string names;  // lower-cased names (the pairs' name pointers point here)
    struct Line {
      uint32_t name_at, name_size;    // in names
      uint32_t value_at, value_size;  // in text
    };
    std::vector<Line> lines;
    int code = 0;
    bool has_length = false;
    uint64_t length = 0;
  };
  OwnHeadMemo& ownHeadMemo() { return own_head_memo_; }
  std::vector<nghttp2_nv>& headPairs() { return head_pairs_; }
  // The connection's account of response bytes its streams hold copied, bounded by
  // http2.max_response_buffer (see h2::responseAllowance).
  void noteHeld(size_t before, size_t after) { held_ += after; held_ -= before; }
  size_t held() const { return held_; }
  // DATA payload bytes handed to frames: send progress.
  void noteSent(size_t bytes) {
    sent_progress_ += bytes;
    out_has_data_ = true;
  }

 private:
  void readInput();
  void writeOutput();
  void updateInterest();
  void finishClose();
  void armIdleTimer();
  // The progress check (limits.send_timeout and min_send_rate, limits.body_timeout and
  // min_body_rate): armed once while streams are open or frames wait for the socket, re-armed
  // by itself every min(send_timeout, body_timeout) / kChecksPerTimeout.
  void armSendTimer();
  void checkSendProgress();
  void endStalled(h2::ProgressWatch::Verdict verdict);
  H2Stream* find(int32_t stream) const;
  H2Stream* open(int32_t stream);  // a recycled or new stream; nullptr if the id is open
  void runRefills();

  WorkerContext& worker_;
  net::UniqueFd fd_;
  std::unique_ptr<net::Transport> transport_;
  tls::TlsTransport* tls_;
  std::string peer_ip_;
  OnClosed on_closed_;
  uint64_t config_generation_ = 0;  // of config_ (WorkerContext::refreshConfig)
  RuntimeConfigPtr config_;
  h2::Session session_;
  StreamTable streams_;
  // Closed streams, recycled together after the current event (one may be on the stack): one
  // deferred task per batch, then they wait in free_ for the next streams.
  std::vector<std::unique_ptr<H2Stream>> retired_;
  std::vector<std::unique_ptr<H2Stream>> free_;
  bool reap_scheduled_ = false;
  std::vector<int32_t> refills_;
  bool refill_scheduled_ = false;
  std::string head_names_;
  OwnHeadMemo own_head_memo_;
  std::vector<nghttp2_nv> head_pairs_;
  std::string covered_authority_;  // the last authority certificateCovers() answered for
  bool covered_known_ = false;
  bool covered_ = false;
  std::string out_;  // serialised frames, written up to out_at_
  size_t out_at_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  bool write_scheduled_ = false;
  bool read_scheduled_ = false;
  uint32_t interest_ = 0;
  net::Timer timer_;
  net::Timer send_timer_;
  h2::ProgressWatch send_watch_;
  // Send progress: DATA payload bytes handed to frames, plus bytes the socket took while
  // out_ held DATA (frames a client merely answers with, such as PING ACK, are no progress).
  uint64_t sent_progress_ = 0;
  bool out_has_data_ = false;
  size_t held_ = 0;  // response bytes held copied by the streams (noteHeld)
  std::shared_ptr<bool> alive_token_ = std::make_shared<bool>(true);
};

}  // namespace ec::proxy
