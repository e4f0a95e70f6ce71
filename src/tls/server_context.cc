#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/core_names.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include "base/log.h"
#include "tls/host_match.h"
#include "tls/tls_transport.h"

namespace ec::tls {
namespace {

constexpr unsigned char kSessionIdContext[] = "edgecache";

Error configError(std::string context) {
  return Error::internal(ErrorKind::kInvalidArgument, std::move(context));
}

int versionNumber(const std::string& name) {
  return name == "TLSv1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
}

struct BioCloser {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Closer {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyCloser {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioCloser>;
using X509Ptr = std::unique_ptr<X509, X509Closer>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyCloser>;

// subjectAltName DNS entries, or the subject CN when there are none (RFC 6125 §6.4.4).
std::vector<std::string> certificateNames(X509* cert) {
  std::vector<std::string> names;
  auto* alt = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (alt != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(alt); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_IA5STRING* dns = name->d.dNSName;
      names.push_back(normalizeHostName(std::string_view(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
          static_cast<size_t>(ASN1_STRING_length(dns)))));
    }
    GENERAL_NAMES_free(alt);
  }
  if (names.empty()) {
    char common_name[256];
    const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
                                                 common_name, sizeof common_name);
    if (length > 0) names.push_back(normalizeHostName(std::string_view(common_name, static_cast<size_t>(length))));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

std::string drainOpenSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

ServerContext::ServerContext(const config::TlsConfig& config, TlsStats& stats)
    : config_(config), stats_(stats) {
  for (const std::string& protocol : config_.alpn) {
    alpn_wire_.push_back(static_cast<unsigned char>(protocol.size()));
    alpn_wire_.insert(alpn_wire_.end(), protocol.begin(), protocol.end());
  }
}

ServerContext::~ServerContext() {
  for (Group& group : groups_) SSL_CTX_free(group.ctx);
}

Result<std::shared_ptr<ServerContext>> ServerContext::create(const config::TlsConfig& config,
                                                             TlsStats& stats) {
  std::shared_ptr<ServerContext> context(new ServerContext(config, stats));
  ERR_clear_error();
  for (const config::CertificateConfig& certificate : config.certificates) {
    if (auto added = context->addCertificate(certificate); !added.ok()) return fail(added.error());
  }
  if (context->groups_.empty()) return fail(configError("tls: no certificate"));
  // The default group's context is the one every handshake starts with: it owns the session
  // cache and the ticket keys, whatever certificate SNI switches to.
  SSL_CTX* first = context->groups_[0].ctx;
  if (config.session_cache_size == 0) {
    SSL_CTX_set_session_cache_mode(first, SSL_SESS_CACHE_OFF);
  } else {
    SSL_CTX_set_session_cache_mode(first, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(first, static_cast<long>(config.session_cache_size));
  }
  SSL_CTX_set_timeout(first, static_cast<long>(config.session_lifetime_s));
  if (!config.ticket_key_file.empty()) {
    if (auto keys = context->loadTicketKeys(config.ticket_key_file); !keys.ok()) return fail(keys.error());
    SSL_CTX_set_tlsext_ticket_key_evp_cb(first, &ServerContext::onTicketKey);
  }
  return context;
}

Status ServerContext::configureContext(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, versionNumber(config_.min_version));
  SSL_CTX_set_max_proto_version(ctx, versionNumber(config_.max_version));
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No SSL_MODE_RELEASE_BUFFERS: it frees the 17 KiB read and write buffers whenever they
  // empty and allocates them again for the next record, a malloc/free pair per record on a
  // busy keep-alive or HTTP/2 connection (docs/design/tls-buffers.md). Read-ahead fills the
  // read buffer with whatever the socket holds, so several records (or a record's header and
  // body) cost one read(2) instead of two per record; TlsTransport::hasBufferedInput() then
  // reports what sits in that buffer.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, config_.ciphers.c_str()) != 1) {
    return fail(configError("tls.ciphers \"" + config_.ciphers + "\": no usable cipher (" +
                            drainOpenSslErrors() + ")"));
  }
  if (SSL_CTX_set_ciphersuites(ctx, config_.ciphersuites.c_str()) != 1) {
    return fail(configError("tls.ciphersuites \"" + config_.ciphersuites +
                            "\": not understood (" + drainOpenSslErrors() + ")"));
  }
  if (SSL_CTX_set1_groups_list(ctx, config_.groups.c_str()) != 1) {
    return fail(configError("tls.groups \"" + config_.groups + "\": not understood (" +
                            drainOpenSslErrors() + ")"));
  }
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (config_.session_tickets) {
    SSL_CTX_set_num_tickets(ctx, 1);
  } else {
    // TLS 1.2: no ticket extension; TLS 1.3: no NewSessionTicket after the handshake.
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  SSL_CTX_set_tlsext_servername_callback(ctx, &ServerContext::onServerName);
  SSL_CTX_set_tlsext_servername_arg(ctx, this);
  SSL_CTX_set_alpn_select_cb(ctx, &ServerContext::onAlpn, this);
  SSL_CTX_set_tlsext_status_cb(ctx, &ServerContext::onStatusRequest);
  SSL_CTX_set_tlsext_status_arg(ctx, this);
  return {};
}

Status ServerContext::addCertificate(const config::CertificateConfig& certificate) {
  const std::string& path = certificate.cert;
  BioPtr cert_bio(BIO_new_file(path.c_str(), "r"));
  if (!cert_bio) {
    ERR_clear_error();
    return fail(configError("tls certificate " + path + ": cannot be read"));
  }
  X509Ptr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    return fail(configError("tls certificate " + path + ": no PEM certificate (" +
                            drainOpenSslErrors() + ")"));
  }
  std::vector<X509Ptr> chain;
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(extra);
  }
  ERR_clear_error();  // the end of the file reads as an error
  BioPtr key_bio(BIO_new_file(certificate.key.c_str(), "r"));
  if (!key_bio) {
    ERR_clear_error();
    return fail(configError("tls key " + certificate.key + ": cannot be read"));
  }
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return fail(configError("tls key " + certificate.key + ": no PEM private key (" +
                            drainOpenSslErrors() + ")"));
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return fail(configError("tls key " + certificate.key + " does not belong to certificate " +
                            path));
  }
  CertificateInfo info;
  info.cert_path = path;
  const int key_id = EVP_PKEY_get_base_id(key.get());
  if (key_id == EVP_PKEY_EC) {
    info.key_type = KeyType::kEcdsa;
  } else if (key_id == EVP_PKEY_RSA) {
    info.key_type = KeyType::kRsa;
  } else {
    return fail(configError("tls certificate " + path + ": key type is neither ECDSA nor RSA"));
  }
  info.names = certificateNames(leaf.get());
  if (info.names.empty()) {
    return fail(configError("tls certificate " + path + ": carries no DNS name"));
  }

  auto same_names = std::find_if(groups_.begin(), groups_.end(),
                                 [&](const Group& g) { return g.names == info.names; });
  Group* group = nullptr;
  if (same_names != groups_.end()) {
    group = &*same_names;
    const bool taken = info.key_type == KeyType::kEcdsa ? group->has_ecdsa : group->has_rsa;
    if (taken) {
      return fail(configError("tls certificate " + path + ": a " + keyTypeName(info.key_type) +
                              " certificate for the same names is already configured"));
    }
  } else {
    Group fresh;
    fresh.names = info.names;
    fresh.ctx = SSL_CTX_new(TLS_server_method());
    if (fresh.ctx == nullptr) return fail(configError("tls: " + drainOpenSslErrors()));
    groups_.push_back(fresh);
    group = &groups_.back();
    if (auto configured = configureContext(group->ctx); !configured.ok()) return configured;
    const size_t index = groups_.size() - 1;
    for (const std::string& name : info.names) {
      auto& index_map = name.starts_with("*.") ? wildcard_ : exact_;
      index_map.emplace(name, index);  // the first certificate listed for a name wins
    }
  }
  if (SSL_CTX_use_certificate(group->ctx, leaf.get()) != 1 ||
      SSL_CTX_use_PrivateKey(group->ctx, key.get()) != 1) {
    return fail(configError("tls certificate " + path + ": refused (" + drainOpenSslErrors() + ")"));
  }
  for (X509Ptr& extra : chain) {
    if (SSL_CTX_add1_chain_cert(group->ctx, extra.get()) != 1) {
      return fail(configError("tls certificate " + path + ": chain refused (" +
                              drainOpenSslErrors() + ")"));
    }
  }
  (info.key_type == KeyType::kEcdsa ? group->has_ecdsa : group->has_rsa) = true;
  // The context holds its own reference to the leaf; key the staple by that pointer.
  loadStaple(SSL_CTX_get0_certificate(group->ctx), info);
  certificates_.push_back(std::move(info));
  return {};
}

Status ServerContext::loadTicketKeys(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(configError("tls.ticket_key_file " + path + ": cannot be read"));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty() || bytes.size() % sizeof(TicketKey) != 0) {
    return fail(configError("tls.ticket_key_file " + path + ": holds " + std::to_string(bytes.size()) +
                            " bytes, not a whole number of 80-byte keys"));
  }
  ticket_keys_.resize(bytes.size() / sizeof(TicketKey));
  std::memcpy(ticket_keys_.data(), bytes.data(), bytes.size());
  return {};
}

int ServerContext::onTicketKey(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                               EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
  auto* transport = static_cast<TlsTransport*>(SSL_get_app_data(ssl));
  if (transport == nullptr) return -1;
  const ServerContext& self = transport->context();
  if (self.ticket_keys_.empty()) return -1;
  const TicketKey* key = nullptr;
  int result = 1;
  if (encrypt == 1) {
    key = &self.ticket_keys_[0];
    std::memcpy(key_name, key->name, sizeof key->name);
    if (RAND_bytes(iv, 16) != 1) return -1;
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv) != 1) return -1;
  } else {
    for (size_t i = 0; i < self.ticket_keys_.size(); ++i) {
      if (std::memcmp(key_name, self.ticket_keys_[i].name, 16) == 0) {
        key = &self.ticket_keys_[i];
        result = i == 0 ? 1 : 2;  // 2: valid, but issue a ticket under the current key
        break;
      }
    }
    if (key == nullptr) return 0;  // unknown key (rotated out): a full handshake
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes, iv) != 1) return -1;
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac),
                                        sizeof key->hmac),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
  return result;
}

void ServerContext::loadStaple(X509* leaf, CertificateInfo& info) {
  const std::string path = info.cert_path + ".ocsp";
  std::ifstream in(path, std::ios::binary);
  if (!in) return;  // no staple: handshakes go without one
  std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* response = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  OCSP_BASICRESP* basic = nullptr;
  const ASN1_GENERALIZEDTIME* this_update = nullptr;
  if (response != nullptr && OCSP_response_status(response) == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
      (basic = OCSP_response_get1_basic(response)) != nullptr && OCSP_resp_count(basic) > 0) {
    OCSP_single_get0_status(OCSP_resp_get0(basic, 0), nullptr, nullptr,
                            const_cast<ASN1_GENERALIZEDTIME**>(&this_update), nullptr);
  }
  std::tm when{};
  if (this_update != nullptr && ASN1_TIME_to_tm(this_update, &when) == 1) {
    info.staple_this_update = static_cast<int64_t>(timegm(&when));
    staples_.emplace_back(leaf, std::move(der));
  } else {
    // A staple that does not parse is left out rather than sent: clients would reject it.
    EC_LOG_WARN("tls: OCSP staple %s is not a successful OCSP response; not stapled", path.c_str());
  }
  OCSP_BASICRESP_free(basic);
  OCSP_RESPONSE_free(response);
  ERR_clear_error();
}

int ServerContext::onStatusRequest(SSL* ssl, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  X509* chosen = SSL_get_certificate(ssl);
  for (const auto& [leaf, der] : self->staples_) {
    if (leaf != chosen) continue;
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der.size()));
    if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
    std::memcpy(copy, der.data(), der.size());
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der.size()));  // takes it
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

std::vector<std::string> ServerContext::sourceFiles() const {
  std::vector<std::string> files;
  for (const config::CertificateConfig& c : config_.certificates) {
    files.push_back(c.cert);
    files.push_back(c.key);
    files.push_back(c.cert + ".ocsp");  // may not exist yet: its arrival is a change
  }
  if (!config_.ticket_key_file.empty()) files.push_back(config_.ticket_key_file);
  return files;
}

size_t ServerContext::groupForName(std::string_view server_name, CertMatch& match) const {
  match = CertMatch::kDefault;
  if (server_name.empty()) return 0;
  const std::string host = normalizeHostName(server_name);
  if (auto it = exact_.find(host); it != exact_.end()) {
    match = CertMatch::kExact;
    return it->second;
  }
  const std::string wildcard = wildcardFor(host);
  if (!wildcard.empty()) {
    if (auto it = wildcard_.find(wildcard); it != wildcard_.end()) {
      match = CertMatch::kWildcard;
      return it->second;
    }
  }
  return 0;
}

bool ServerContext::groupCovers(size_t group, std::string_view host) const {
  if (group >= groups_.size()) return false;
  const std::string normal = normalizeHostName(host);
  for (const std::string& name : groups_[group].names) {
    if (certificateNameCovers(name, normal)) return true;
  }
  return false;
}

std::unique_ptr<TlsTransport> ServerContext::accept(int fd) {
  SSL* ssl = SSL_new(groups_[0].ctx);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_set_fd(ssl, fd) != 1) {
    ERR_clear_error();
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  auto transport = std::make_unique<TlsTransport>(shared_from_this(), ssl);
  SSL_set_app_data(ssl, transport.get());
  return transport;
}

int ServerContext::onServerName(SSL* ssl, int* /*alert*/, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  auto* transport = static_cast<TlsTransport*>(SSL_get_app_data(ssl));
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  CertMatch match = CertMatch::kDefault;
  const size_t group = self->groupForName(name == nullptr ? std::string_view() : name, match);
  if (group != 0) SSL_set_SSL_CTX(ssl, self->groups_[group].ctx);
  if (transport != nullptr) transport->setSelectedGroup(group);
  self->stats_.countSelection(match);
  return SSL_TLSEXT_ERR_OK;
}

int ServerContext::onAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len,
                          const unsigned char* in, unsigned int in_len, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, self->alpn_wire_.data(),
                            static_cast<unsigned int>(self->alpn_wire_.size()), in,
                            in_len) != OPENSSL_NPN_NEGOTIATED) {
    // RFC 7301 §3.2: no protocol in common is a fatal no_application_protocol alert.
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace ec::tls
