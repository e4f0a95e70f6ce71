#include "tls/client_context.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>

#include "tls/server_context.h"
#include "tls/ssl_io.h"

namespace ec::tls {
namespace {

Error configError(std::string context) {
  return Error::internal(ErrorKind::kInvalidArgument, std::move(context));
}

int versionNumber(const std::string& name) {
  return name == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
}

bool isIpAddress(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

// "<path>@<mtime ns>:<size>": a changed file gives a new identity, so a reload builds a new
// pool with the new CA bundle or client certificate instead of keeping the old context.
std::string fileStamp(const std::string& path) {
  if (path.empty()) return "";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return path + "@missing";
  return path + "@" + std::to_string(info.st_mtim.tv_sec) + "." +
         std::to_string(info.st_mtim.tv_nsec) + ":" + std::to_string(info.st_size);
}

// "http/1.1" as ALPN wire bytes: an origin that also speaks h2 must not pick it.
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

}  // namespace

Result<std::shared_ptr<ClientContext>> ClientContext::create(const config::OriginTlsConfig& config,
                                                             const std::string& default_name) {
  std::shared_ptr<ClientContext> context(new ClientContext());
  context->server_name_ = config.sni.empty() ? default_name : config.sni;
  if (context->server_name_.size() > 2 && context->server_name_.front() == '[' &&
      context->server_name_.back() == ']') {
    context->server_name_ = context->server_name_.substr(1, context->server_name_.size() - 2);
  }
  context->name_is_ip_ = isIpAddress(context->server_name_);
  context->verify_ = config.verify;
  context->identity_ = "tls|" + fileStamp(config.ca_file) + "|" +
                       (config.verify ? "verify" : "noverify") + "|" + context->server_name_ +
                       "|" + config.min_version + "|" + config.max_version + "|" +
                       fileStamp(config.cert) + "|" + fileStamp(config.key);
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return fail(configError("cannot create a TLS client context: " + drainOpenSslErrors()));
  context->ctx_ = ctx;
  SSL_CTX_set_app_data(ctx, context.get());
  if (SSL_CTX_set_min_proto_version(ctx, versionNumber(config.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, versionNumber(config.max_version)) != 1) {
    return fail(configError("cannot set TLS versions: " + drainOpenSslErrors()));
  }
  if (config.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return fail(configError("cannot load the system CA bundle: " + drainOpenSslErrors()));
    }
  } else if (SSL_CTX_load_verify_file(ctx, config.ca_file.c_str()) != 1) {
    return fail(configError("ca_file " + config.ca_file + ": cannot load CA certificates (" +
                       drainOpenSslErrors() + ")"));
  }
  SSL_CTX_set_verify(ctx, config.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (!config.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.cert.c_str()) != 1) {
      return fail(configError("cert " + config.cert + ": cannot load the client certificate (" +
                         drainOpenSslErrors() + ")"));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fail(configError("key " + config.key + ": cannot load the client key (" +
                         drainOpenSslErrors() + ")"));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return fail(configError("key " + config.key + " does not match cert " + config.cert));
    }
  }
  if (SSL_CTX_set_alpn_protos(ctx, kAlpnHttp11, sizeof kAlpnHttp11) != 0) {
    return fail(configError("cannot set ALPN: " + drainOpenSslErrors()));
  }
  // Sessions are kept by hand (one per origin, the newest), not in OpenSSL's cache.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &ClientContext::onNewSession);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Many origins close without close_notify; that reads as EOF, so a close-delimited body
  // ends there (a framed body that stops short is still caught by its framing).
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  return context;
}

ClientContext::~ClientContext() {
  if (session_ != nullptr) SSL_SESSION_free(session_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

int ClientContext::onNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<ClientContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self == nullptr) return 0;
  std::lock_guard lock(self->session_mutex_);
  if (self->session_ != nullptr) SSL_SESSION_free(self->session_);
  self->session_ = session;
  return 1;  // the reference is ours now
}

bool ClientContext::hasSession() {
  std::lock_guard lock(session_mutex_);
  return session_ != nullptr;
}

std::unique_ptr<ClientStream> ClientContext::connect(int fd) {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  if (name_is_ip_) {
    if (verify_) X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name_.c_str());
  } else if (!server_name_.empty()) {
    SSL_set_tlsext_host_name(ssl, server_name_.c_str());
    if (verify_) {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, server_name_.c_str());
    }
  }
  {
    std::lock_guard lock(session_mutex_);
    if (session_ != nullptr && SSL_SESSION_is_resumable(session_) == 1) SSL_set_session(ssl, session_);
  }
  return std::make_unique<ClientStream>(ssl);
}

ClientStream::~ClientStream() {
  // Closing without close_notify would otherwise mark the session not resumable (OpenSSL
  // treats it as a bad session), and it is the one this origin's next connection offers.
  if (handshake_done_) SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl_);
}

ClientStream::Step ClientStream::handshake() {
  if (handshake_done_) return Step::kDone;
  if (failure_ != Failure::kNone) return Step::kFailed;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    handshake_done_ = true;
    return Step::kDone;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) return Step::kWantRead;
  if (error == SSL_ERROR_WANT_WRITE) return Step::kWantWrite;
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    failure_ = Failure::kVerify;
    failure_detail_ = std::string("certificate verify failed: ") +
                      X509_verify_cert_error_string(verify);
    ERR_clear_error();
  } else {
    failure_ = Failure::kHandshake;
    std::string detail = drainOpenSslErrors();
    if (detail.empty()) {
      detail = error == SSL_ERROR_SYSCALL ? "the origin closed the connection during the handshake"
                                          : "handshake failed";
    }
    failure_detail_ = std::move(detail);
  }
  return Step::kFailed;
}

bool ClientStream::resumed() const { return SSL_session_reused(ssl_) == 1; }

const char* ClientStream::version() const { return SSL_get_version(ssl_); }

net::IoResult ClientStream::read(char* buffer, size_t capacity) {
  return readStep(ssl_, buffer, capacity, read_waits_for_writable_);
}

net::IoResult ClientStream::writev(const iovec* iov, int count, bool /*more*/) {
  write_waits_for_readable_ = false;
  if (count <= 0) return net::IoResult::of(0);
  // The origin exchange writes one contiguous buffer; only the first segment is taken.
  return writeStep(ssl_, iov[0].iov_base, iov[0].iov_len, write_waits_for_readable_);
}

bool ClientStream::hasBufferedInput() const { return handshake_done_ && SSL_pending(ssl_) > 0; }

void ClientStream::shutdown() {
  if (!handshake_done_ || shut_down_) return;
  shut_down_ = true;
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace ec::tls
