#pragma once
// ServerContext: the TLS side of one listener, built from its validated `tls` section. It loads
// every certificate (leaf, chain, key; a mismatch or unreadable file is a precise error),
// groups certificates that carry the same names so that an ECDSA and an RSA certificate for
// the same site share one OpenSSL context (OpenSSL then picks by the client's signature
// algorithms and cipher list), indexes the groups by exact and wildcard name for SNI, and
// hands out a TlsTransport per accepted socket. Immutable once built, shared by every worker
// (an SSL_CTX is safe to use from several threads); a reload builds a new one.

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "tls/tls_stats.h"

namespace ec::tls {

class TlsTransport;

struct CertificateInfo {
  std::string cert_path;
  KeyType key_type = KeyType::kEcdsa;
  std::vector<std::string> names;  // normalised subjectAltName DNS entries (or the CN)
  // OCSP staple read from "<cert>.ocsp" (DER): its thisUpdate in epoch seconds, 0 without.
  int64_t staple_this_update = 0;
};

class ServerContext : public std::enable_shared_from_this<ServerContext> {
 public:
  static Result<std::shared_ptr<ServerContext>> create(const config::TlsConfig& config,
                                                       TlsStats& stats);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // A TLS stream in the server role over an accepted non-blocking socket (not owned).
  std::unique_ptr<TlsTransport> accept(int fd);

  // True when the certificate group `group` (what a handshake selected) covers `host`.
  bool groupCovers(size_t group, std::string_view host) const;
  const std::vector<CertificateInfo>& certificates() const { return certificates_; }
  TlsStats& stats() { return stats_; }

  // The files this context was built from (certificates, keys, ticket keys): a change to any
  // of them triggers a rebuild.
  std::vector<std::string> sourceFiles() const;

  // SNI lookup, exposed for tests: the group index and how it matched.
  size_t groupForName(std::string_view server_name, CertMatch& match) const;

 private:
  struct Group {
    std::vector<std::string> names;
    SSL_CTX* ctx = nullptr;
    bool has_ecdsa = false;
    bool has_rsa = false;
  };
  ServerContext(const config::TlsConfig& config, TlsStats& stats);
  Status configureContext(SSL_CTX* ctx);
  Status addCertificate(const config::CertificateConfig& certificate);
  static int onServerName(SSL* ssl, int* alert, void* arg);
  static int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* out_len,
                    const unsigned char* in, unsigned int in_len, void* arg);
  static int onStatusRequest(SSL* ssl, void* arg);
  void loadStaple(X509* leaf, CertificateInfo& info);
  std::vector<std::pair<X509*, std::string>> staples_;  // leaf (owned by its SSL_CTX) -> DER
  Status loadTicketKeys(const std::string& path);
  static int onTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                         EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt);

  struct TicketKey {
    unsigned char name[16];
    unsigned char hmac[32];
    unsigned char aes[32];
  };
  std::vector<TicketKey> ticket_keys_;  // [0] encrypts

  config::TlsConfig config_;
  TlsStats& stats_;
  std::vector<unsigned char> alpn_wire_;  // our protocols, length-prefixed, preference order
  std::vector<Group> groups_;             // [0] holds the default certificate(s)
  std::vector<CertificateInfo> certificates_;
  std::unordered_map<std::string, size_t> exact_;
  std::unordered_map<std::string, size_t> wildcard_;
};

// Where a listener finds its current ServerContext: workers load it per accepted connection,
// a certificate reload stores a new one; connections keep the context they started with.
class ContextSlot {
 public:
  explicit ContextSlot(std::shared_ptr<ServerContext> context) : context_(std::move(context)) {}
  std::shared_ptr<ServerContext> get() const { return std::atomic_load(&context_); }
  void set(std::shared_ptr<ServerContext> context) { std::atomic_store(&context_, std::move(context)); }

 private:
  std::shared_ptr<ServerContext> context_;
};

// The queued OpenSSL errors as one line ("error:0A000086:SSL routines::certificate verify
// failed; ..."), and the queue cleared.
std::string drainOpenSslErrors();

}  // namespace ec::tls
