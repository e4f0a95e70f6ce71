#pragma once
// ClientContext: the TLS client side toward one origin, built from its validated
// `services[].origins[].tls` section: trusted CAs (a file or the system bundle), chain and name
// verification, the server name sent in SNI, protocol versions, an optional client certificate,
// and the last session the origin handed out (resumed by the next connection). Immutable once
// built apart from that session (behind a mutex), shared by every worker.
// ClientStream: one client TLS stream over a connected non-blocking origin socket
// (net::Transport), with the handshake driven step by step by the origin exchange and its
// failure classified (verification or handshake) for the origin error counters.

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "config/config.h"
#include "net/transport.h"

namespace ec::tls {

class ClientStream;

class ClientContext {
 public:
  // `default_name`: the host of the origin's address, used when the section names no `sni`.
  static Result<std::shared_ptr<ClientContext>> create(const config::OriginTlsConfig& config,
                                                       const std::string& default_name);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  // A TLS stream in the client role over a connected non-blocking socket (not owned); it
  // offers the last session this origin gave out, if any.
  std::unique_ptr<ClientStream> connect(int fd);

  // The name verified against the certificate (and sent in SNI unless it is an IP address).
  const std::string& serverName() const { return server_name_; }
  // Every setting the context was built from (and the CA, certificate and key files' mtime
  // and size), for telling pools apart across reloads.
  const std::string& identity() const { return identity_; }
  // True while a session to resume is kept (tests).
  bool hasSession();

 private:
  ClientContext() = default;
  static int onNewSession(SSL* ssl, SSL_SESSION* session);

  SSL_CTX* ctx_ = nullptr;
  std::string server_name_;
  bool name_is_ip_ = false;
  bool verify_ = true;
  std::string identity_;
  std::mutex session_mutex_;
  SSL_SESSION* session_ = nullptr;  // owned; replaced by each new session
};

class ClientStream final : public net::Transport {
 public:
  enum class Step : uint8_t { kDone, kWantRead, kWantWrite, kFailed };
  enum class Failure : uint8_t { kNone, kVerify, kHandshake };

  explicit ClientStream(SSL* ssl) : ssl_(ssl) {}
  ~ClientStream() override;

  // Advances the handshake; after kFailed, failure() and failureDetail() say why.
  Step handshake();
  bool handshakeDone() const { return handshake_done_; }
  Failure failure() const { return failure_; }
  const std::string& failureDetail() const { return failure_detail_; }
  bool resumed() const;
  const char* version() const;  // "TLSv1.3", after the handshake

  net::IoResult read(char* buffer, size_t capacity) override;
  net::IoResult writev(const iovec* iov, int count, bool more = false) override;
  bool readWaitsForWritable() const override { return read_waits_for_writable_; }
  bool writeWaitsForReadable() const override { return write_waits_for_readable_; }
  bool hasBufferedInput() const override;
  void shutdown() override;
  bool secure() const override { return true; }

 private:
  SSL* ssl_;
  bool handshake_done_ = false;
  bool read_waits_for_writable_ = false;
  bool write_waits_for_readable_ = false;
  bool shut_down_ = false;
  Failure failure_ = Failure::kNone;
  std::string failure_detail_;
};

}  // namespace ec::tls
