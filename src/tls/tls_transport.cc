#include "tls/tls_transport.h"

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tls/server_context.h"
#include "tls/ssl_io.h"

namespace ec::tls {
namespace {

// One TLS record's worth of plaintext: small segments are gathered into it so a response
// head and a small body leave in one record.
constexpr size_t kRecordBytes = 16 * 1024;
// A first segment at least this large is written straight from its own memory.
constexpr size_t kDirectWriteBytes = 4 * 1024;

HandshakeFailure classify(int ssl_error) {
  if (ssl_error == SSL_ERROR_ZERO_RETURN) return HandshakeFailure::kClosed;
  const unsigned long code = ERR_peek_error();
  if (ssl_error == SSL_ERROR_SYSCALL && code == 0) return HandshakeFailure::kClosed;
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) return HandshakeFailure::kProtocol;
  switch (ERR_GET_REASON(code)) {
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      return HandshakeFailure::kNoSharedCipher;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
      return HandshakeFailure::kUnsupportedVersion;
    case SSL_R_NO_APPLICATION_PROTOCOL:
      return HandshakeFailure::kNoApplicationProtocol;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return HandshakeFailure::kHttpOnTlsPort;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return HandshakeFailure::kClosed;
    default:
      return HandshakeFailure::kProtocol;
  }
}

}  // namespace

TlsTransport::TlsTransport(std::shared_ptr<ServerContext> context, SSL* ssl)
    : context_(std::move(context)), ssl_(ssl) {}

TlsTransport::~TlsTransport() { SSL_free(ssl_); }

net::IoResult TlsTransport::failHandshake(int ssl_error) {
  handshake_failed_ = true;
  const HandshakeFailure failure = classify(ssl_error);
  context_->stats().countFailure(failure);
  ERR_clear_error();
  return failure == HandshakeFailure::kClosed ? net::IoResult::eof() : net::IoResult::error();
}

void TlsTransport::noteHandshakeTimeout() {
  if (handshake_done_ || handshake_failed_) return;
  handshake_failed_ = true;
  context_->stats().countFailure(HandshakeFailure::kTimeout);
}

net::IoResult TlsTransport::handshake() {
  if (handshake_failed_) return net::IoResult::error();
  read_waits_for_writable_ = false;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    onHandshakeDone();
    return net::IoResult::blocked();
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return net::IoResult::blocked();
  if (error == SSL_ERROR_WANT_WRITE) {
    read_waits_for_writable_ = true;
    return net::IoResult::blocked();
  }
  return failHandshake(error);
}

void TlsTransport::onHandshakeDone() {
  handshake_done_ = true;
  const bool tls13 = SSL_version(ssl_) == TLS1_3_VERSION;
  info_.vers = tls13 ? "TLSv1.3" : "TLSv1.2";
  KeyType auth = KeyType::kEcdsa;
  if (X509* cert = SSL_get_certificate(ssl_)) {
    if (EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) == EVP_PKEY_RSA) auth = KeyType::kRsa;
  }
  info_.auth = keyTypeName(auth);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) info_.ciph = SSL_CIPHER_get_name(cipher);
  const int group = SSL_get_negotiated_group(ssl_);
  if (group != 0 && group != NID_undef) {
    const char* name = OBJ_nid2sn(group & ~TLSEXT_nid_unknown);
    info_.keyx = name != nullptr ? name : "unknown";
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  info_.prot = info_.alpn == "h2" ? "h2" : "h1";
  const bool resumed = SSL_session_reused(ssl_) == 1;
  info_.sess = resumed ? "reused" : "new";
  if (const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name)) info_.sni = sni;
  context_->stats().countHandshake(tls13 ? TlsVersion::kTls13 : TlsVersion::kTls12, auth, resumed);
}

net::IoResult TlsTransport::read(char* buffer, size_t capacity) {
  if (!handshake_done_) {
    net::IoResult step = handshake();
    if (!handshake_done_) return step;
  }
  return readStep(ssl_, buffer, capacity, read_waits_for_writable_);
}

net::IoResult TlsTransport::writev(const iovec* iov, int count, bool /*more*/) {
  if (!handshake_done_) {
    // Nothing can be sent before the handshake completes; reading drives it.
    write_waits_for_readable_ = true;
    return handshake_failed_ ? net::IoResult::error() : net::IoResult::blocked();
  }
  write_waits_for_readable_ = false;
  if (count <= 0) return net::IoResult::of(0);
  // The choice between direct and gathered depends only on the queue's front, which does not
  // change while a write is pending, so a retry after WANT_WRITE passes at least as many bytes
  // as the first attempt (what OpenSSL requires; the buffer itself may move).
  thread_local char staging[kRecordBytes];
  const char* data = static_cast<const char*>(iov[0].iov_base);
  size_t length = iov[0].iov_len;
  if (count > 1 && length < kDirectWriteBytes) {
    length = 0;
    for (int i = 0; i < count && length < kRecordBytes; ++i) {
      const size_t take = std::min(iov[i].iov_len, kRecordBytes - length);
      std::memcpy(staging + length, iov[i].iov_base, take);
      length += take;
    }
    data = staging;
  }
  return writeStep(ssl_, data, length, write_waits_for_readable_);
}

// SSL_has_pending, not SSL_pending: with read-ahead, whole records may wait undecrypted in
// OpenSSL's buffer, where no socket event will announce them.
bool TlsTransport::hasBufferedInput() const { return handshake_done_ && SSL_has_pending(ssl_) == 1; }

void TlsTransport::shutdown() {
  if (!handshake_done_ || shut_down_) return;
  shut_down_ = true;
  SSL_shutdown(ssl_);  // close_notify, best effort: the socket is closed right after
  ERR_clear_error();
}

std::string TlsInfo::analyticsField() const {
  std::string out;
  appendAnalyticsField(out);
  return out;
}

void TlsInfo::appendAnalyticsField(std::string& out) const {
  if (vers.empty()) return;
  out.append("vers=").append(vers);
  out.append(";keyx=").append(keyx.empty() ? "UNKNOWN" : keyx);
  out.append(";auth=").append(auth).append(";ciph=").append(ciph);
  out.append(";prot=").append(prot).append(";sess=").append(sess);
}

bool TlsTransport::certificateCovers(std::string_view host) const {
  return context_->groupCovers(group_, host);
}

}  // namespace ec::tls
