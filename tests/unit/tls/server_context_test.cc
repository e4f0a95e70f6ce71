// ServerContext and TlsTransport with certificates made in-process (OpenSSL API): SNI index,
// ECDSA+RSA groups, precise load errors, and a real handshake plus data both ways over a
// non-blocking socketpair, the client side driven by plain OpenSSL.
#include "tls/server_context.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/tls_transport.h"

namespace ec::tls {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/ec_tls_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

EVP_PKEY* makeKey(bool rsa) {
  return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

// A self-signed certificate for `names` (subjectAltName), written as PEM files.
config::CertificateConfig makeCertificate(const TempDir& dir, const std::string& stem,
                                          const std::vector<std::string>& names, bool rsa,
                                          bool with_san = true) {
  EVP_PKEY* key = makeKey(rsa);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  if (with_san) {
    std::string san;
    for (const std::string& name : names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  config::CertificateConfig out{dir.file(stem + ".pem"), dir.file(stem + ".key")};
  FILE* f = std::fopen(out.cert.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(out.key.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

class ServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.certificates = {
        makeCertificate(dir_, "default", {"default.test"}, false),
        makeCertificate(dir_, "site-ec", {"example.test", "*.wiki.test"}, false),
        makeCertificate(dir_, "site-rsa", {"example.test", "*.wiki.test"}, true),
    };
  }
  TempDir dir_;
  config::TlsConfig config_;
  TlsStats stats_;
};

TEST_F(ServerContextTest, SniPicksExactThenWildcardThenDefault) {
  auto context = ServerContext::create(config_, stats_);
  ASSERT_TRUE(context.ok()) << context.error().context;
  CertMatch match{};
  EXPECT_EQ((*context)->groupForName("Example.Test.", match), 1u);
  EXPECT_EQ(match, CertMatch::kExact);
  EXPECT_EQ((*context)->groupForName("en.wiki.test", match), 1u);
  EXPECT_EQ(match, CertMatch::kWildcard);
  EXPECT_EQ((*context)->groupForName("a.b.wiki.test", match), 0u);
  EXPECT_EQ(match, CertMatch::kDefault);
  EXPECT_EQ((*context)->groupForName("", match), 0u);
  EXPECT_EQ(match, CertMatch::kDefault);
  EXPECT_TRUE((*context)->groupCovers(1, "en.wiki.test"));
  EXPECT_FALSE((*context)->groupCovers(1, "default.test"));
  ASSERT_EQ((*context)->certificates().size(), 3u);
  EXPECT_EQ((*context)->certificates()[2].key_type, KeyType::kRsa);
}

TEST_F(ServerContextTest, CommonNameIsUsedOnlyWithoutSubjectAltName) {
  config_.certificates = {makeCertificate(dir_, "cn-only", {"cn.test"}, false, false)};
  auto context = ServerContext::create(config_, stats_);
  ASSERT_TRUE(context.ok()) << context.error().context;
  EXPECT_EQ((*context)->certificates()[0].names, std::vector<std::string>{"cn.test"});
}

TEST_F(ServerContextTest, TwoCertificatesOfOneKeyTypeForTheSameNamesAreRefused) {
  config_.certificates.push_back(makeCertificate(dir_, "again", {"example.test", "*.wiki.test"}, false));
  auto context = ServerContext::create(config_, stats_);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("already configured"), std::string::npos);
}

TEST_F(ServerContextTest, LoadErrorsNameTheFileAndTheReason) {
  config::TlsConfig mismatched;
  mismatched.certificates = {{config_.certificates[0].cert, config_.certificates[1].key}};
  auto context = ServerContext::create(mismatched, stats_);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("does not belong to certificate"), std::string::npos);

  config::TlsConfig missing;
  missing.certificates = {{dir_.file("absent.pem"), config_.certificates[0].key}};
  context = ServerContext::create(missing, stats_);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("absent.pem: cannot be read"), std::string::npos);

  config::TlsConfig bad_ciphers = config_;
  bad_ciphers.ciphers = "NO-SUCH-CIPHER";
  context = ServerContext::create(bad_ciphers, stats_);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("tls.ciphers"), std::string::npos);
}

TEST_F(ServerContextTest, TicketKeyFileMustHoldWhole80ByteKeys) {
  const std::string path = dir_.file("tickets.key");
  FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(std::string(160, 'k').data(), 1, 160, f);
  std::fclose(f);
  config_.ticket_key_file = path;
  auto context = ServerContext::create(config_, stats_);
  ASSERT_TRUE(context.ok()) << context.error().context;
  EXPECT_EQ((*context)->sourceFiles().back(), path);
  EXPECT_EQ((*context)->sourceFiles().size(), 10u);  // 3 x (certificate, key, staple) + tickets

  f = std::fopen(path.c_str(), "wb");
  std::fwrite(std::string(100, 'k').data(), 1, 100, f);
  std::fclose(f);
  context = ServerContext::create(config_, stats_);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("not a whole number of 80-byte keys"), std::string::npos);
}

// Drives both ends until `done` or no progress.
template <typename Done>
void pump(SSL* client, TlsTransport& server, std::string& server_in, Done done) {
  char buffer[16384];
  for (int round = 0; round < 2000 && !done(); ++round) {
    SSL_do_handshake(client);
    net::IoResult io = server.read(buffer, sizeof buffer);
    if (io.kind == net::IoResult::Kind::kBytes) server_in.append(buffer, io.bytes);
    ASSERT_NE(io.kind, net::IoResult::Kind::kError);
  }
}

TEST_F(ServerContextTest, HandshakeAndDataBothWaysOverANonBlockingSocketPair) {
  config_.alpn = {"http/1.1"};
  auto context = ServerContext::create(config_, stats_);
  ASSERT_TRUE(context.ok()) << context.error().context;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  auto server = (*context)->accept(fds[0]);
  ASSERT_TRUE(server);

  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, nullptr);
  SSL* client = SSL_new(client_ctx);
  SSL_set_fd(client, fds[1]);
  SSL_set_connect_state(client);
  SSL_set_tlsext_host_name(client, "en.wiki.test");
  SSL_set1_sigalgs_list(client, "rsa_pss_rsae_sha256");  // only the RSA certificate will do
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_set_alpn_protos(client, kAlpn, sizeof kAlpn - 1);

  std::string received;
  // The client writes its request as soon as its handshake completes.
  const std::string request = "GET / HTTP/1.1\r\nHost: en.wiki.test\r\n\r\n";
  bool sent = false;
  pump(client, *server, received, [&] {
    if (!sent && SSL_is_init_finished(client)) {
      sent = SSL_write(client, request.data(), static_cast<int>(request.size())) > 0;
    }
    return received.size() >= request.size();
  });
  ASSERT_TRUE(server->handshakeDone());
  EXPECT_EQ(received, request);
  EXPECT_EQ(server->info().vers, "TLSv1.3");
  EXPECT_EQ(server->info().auth, "RSA");
  EXPECT_EQ(server->info().keyx, "X25519");
  EXPECT_EQ(server->info().prot, "h1");
  EXPECT_EQ(server->info().alpn, "http/1.1");
  EXPECT_EQ(server->info().sni, "en.wiki.test");
  EXPECT_EQ(server->info().analyticsField(),
            "vers=TLSv1.3;keyx=X25519;auth=RSA;ciph=TLS_AES_128_GCM_SHA256;prot=h1;sess=new");
  EXPECT_TRUE(server->certificateCovers("fr.wiki.test"));
  EXPECT_FALSE(server->certificateCovers("default.test"));
  EXPECT_EQ(stats_.selections[static_cast<size_t>(CertMatch::kWildcard)].load(), 1u);

  // A response larger than a record, from several iovecs, arrives intact.
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n";
  std::string body(40000, 'b');
  std::string expected = head + body;
  std::string got;
  size_t offset = 0;
  char buffer[16384];
  for (int round = 0; round < 10000 && got.size() < expected.size(); ++round) {
    if (offset < expected.size()) {
      iovec iov[2];
      const size_t head_left = offset < head.size() ? head.size() - offset : 0;
      int count = 0;
      if (head_left > 0) iov[count++] = {head.data() + offset, head_left};
      const size_t body_offset = offset > head.size() ? offset - head.size() : 0;
      iov[count++] = {body.data() + body_offset, body.size() - body_offset};
      net::IoResult io = server->writev(iov, count);
      ASSERT_NE(io.kind, net::IoResult::Kind::kError);
      if (io.kind == net::IoResult::Kind::kBytes) offset += io.bytes;
    }
    const int n = SSL_read(client, buffer, sizeof buffer);
    if (n > 0) got.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, expected);

  SSL_free(client);
  SSL_CTX_free(client_ctx);
  server.reset();
  close(fds[0]);
  close(fds[1]);
  EXPECT_EQ(stats_.handshakes[static_cast<size_t>(TlsVersion::kTls13)]
                             [static_cast<size_t>(KeyType::kRsa)][0].load(), 1u);
}

// session_tickets: false sends no NewSessionTicket (TLS 1.3), so a client holds nothing to
// resume with; true sends one. With the session cache off too, resumption is off.
TEST_F(ServerContextTest, SessionTicketsCanBeTurnedOff) {
  config_.alpn = {"http/1.1"};
  config_.session_cache_size = 0;
  for (const bool tickets : {true, false}) {
    config_.session_tickets = tickets;
    auto context = ServerContext::create(config_, stats_);
    ASSERT_TRUE(context.ok()) << context.error().context;
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    auto server = (*context)->accept(fds[0]);
    SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
    SSL* client = SSL_new(client_ctx);
    SSL_set_fd(client, fds[1]);
    SSL_set_connect_state(client);
    static const unsigned char kAlpn[] = "\x08http/1.1";
    SSL_set_alpn_protos(client, kAlpn, sizeof kAlpn - 1);
    std::string received;
    bool sent = false;
    pump(client, *server, received, [&] {
      if (!sent && SSL_is_init_finished(client)) sent = SSL_write(client, "x", 1) > 0;
      return !received.empty();
    });
    ASSERT_EQ(received, "x");
    // The answer comes after any ticket, so reading it has processed the ticket too.
    const iovec iov{const_cast<char*>("ok"), 2};
    ASSERT_EQ(server->writev(&iov, 1).kind, net::IoResult::Kind::kBytes);
    char buffer[16];
    int n = 0;
    for (int round = 0; round < 100 && n <= 0; ++round) n = SSL_read(client, buffer, sizeof buffer);
    ASSERT_EQ(n, 2);
    EXPECT_EQ(SSL_SESSION_has_ticket(SSL_get0_session(client)) == 1, tickets) << tickets;
    EXPECT_EQ(server->info().sess, "new");
    SSL_free(client);
    SSL_CTX_free(client_ctx);
    server.reset();
    close(fds[0]);
    close(fds[1]);
  }
}

}  // namespace
}  // namespace ec::tls
