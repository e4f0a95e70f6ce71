#pragma once
// TlsTransport: a server-side TLS stream (OpenSSL on the socket fd) implementing
// net::Transport. The handshake runs inside the first reads; once it completes the session's
// facts (version, key exchange group, certificate type, cipher, ALPN, resumption, SNI) are
// counted and kept for the access log. Writes gather small iovecs into one record-sized
// buffer (OpenSSL has no writev) and retry exactly as OpenSSL requires after WANT_WRITE.

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "net/transport.h"
#include "tls/tls_stats.h"

namespace ec::tls {

class ServerContext;

// The `tls` access-log field values (wikimedia-traffic.md §2.3, X-Analytics-TLS).
struct TlsInfo {
  std::string vers;  // "TLSv1.3"
  std::string keyx;  // "X25519", "prime256v1"
  std::string auth;  // "ECDSA" or "RSA"
  std::string ciph;  // "TLS_AES_128_GCM_SHA256"
  std::string prot;  // "h1" (h2 once ALPN selects it)
  std::string sess;  // "new" or "reused"
  std::string sni;   // as the client sent it, normalised; empty without SNI
  std::string alpn;  // "http/1.1", empty when the client offered none

  // The access-log / X-Analytics-TLS form: "vers=TLSv1.3;keyx=X25519;auth=ECDSA;
  // ciph=TLS_AES_128_GCM_SHA256;prot=h2;sess=new" (empty before the handshake completed).
  std::string analyticsField() const;
};

class TlsTransport final : public net::Transport {
 public:
  TlsTransport(std::shared_ptr<ServerContext> context, SSL* ssl);
  ~TlsTransport() override;

  net::IoResult read(char* buffer, size_t capacity) override;
  net::IoResult writev(const iovec* iov, int count, bool more = false) override;
  bool readWaitsForWritable() const override { return read_waits_for_writable_; }
  bool writeWaitsForReadable() const override { return write_waits_for_readable_; }
  bool hasBufferedInput() const override;
  void shutdown() override;
  bool secure() const override { return true; }

  bool handshakeDone() const { return handshake_done_; }
  // The connection timed out before the handshake finished: counted as a failure.
  void noteHandshakeTimeout();
  const TlsInfo& info() const { return info_; }
  // True when the certificate this handshake chose covers `host` (the 421 check).
  bool certificateCovers(std::string_view host) const;

  const ServerContext& context() const { return *context_; }
  // Set from the SNI callback.
  void setSelectedGroup(size_t group) { group_ = group; }

 private:
  net::IoResult handshake();
  void onHandshakeDone();
  net::IoResult failHandshake(int ssl_error);

  std::shared_ptr<ServerContext> context_;
  SSL* ssl_;
  size_t group_ = 0;
  bool handshake_done_ = false;
  bool handshake_failed_ = false;
  bool read_waits_for_writable_ = false;
  bool write_waits_for_readable_ = false;
  bool shut_down_ = false;
  TlsInfo info_;
};

}  // namespace ec::tls
