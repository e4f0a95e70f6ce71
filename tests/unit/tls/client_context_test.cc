// ClientContext and ClientStream (TLS toward origins) against a real ServerContext over a
// non-blocking socketpair, with certificates made in-process: a verified handshake and data,
// resumption of the session the server handed out, a wrong name and an untrusted CA failing
// as verification errors, a version mismatch as a handshake error, and precise load errors.
#include "tls/client_context.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tls/server_context.h"
#include "tls/tls_transport.h"

namespace ec::tls {
namespace {

namespace fs = std::filesystem;

class ClientTempDir {
 public:
  ClientTempDir() {
    char pattern[] = "/tmp/ec_tls_client_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~ClientTempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A self-signed ECDSA certificate for `names`: it is its own CA for the client's ca_file.
config::CertificateConfig selfSigned(const ClientTempDir& dir, const std::string& stem,
                                     const std::vector<std::string>& names) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(names[0].c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, subject);
  std::string san;
  for (const std::string& name : names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
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

class ClientContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    origin_cert_ = selfSigned(dir_, "origin", {"origin.test"});
    other_cert_ = selfSigned(dir_, "other", {"other.test"});
    server_config_.certificates = {origin_cert_};
    server_config_.alpn = {"http/1.1"};
    client_config_.enabled = true;
    client_config_.ca_file = origin_cert_.cert;
  }

  struct Outcome {
    ClientStream::Step step = ClientStream::Step::kFailed;
    std::unique_ptr<ClientStream> client;
    std::unique_ptr<TlsTransport> server;
    int fds[2] = {-1, -1};
    ~Outcome() {
      client.reset();
      server.reset();
      if (fds[0] >= 0) close(fds[0]);
      if (fds[1] >= 0) close(fds[1]);
    }
  };

  // Runs one handshake between `client_context` and a server built from server_config_, then
  // a request and an answer (so the client sees TLS 1.3 session tickets).
  void connect(ClientContext& client_context, Outcome& out) {
    auto server_context = ServerContext::create(server_config_, stats_);
    ASSERT_TRUE(server_context.ok()) << server_context.error().context;
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, out.fds), 0);
    out.server = (*server_context)->accept(out.fds[0]);
    out.client = client_context.connect(out.fds[1]);
    ASSERT_TRUE(out.server && out.client);
    char buffer[4096];
    for (int round = 0; round < 200; ++round) {
      out.step = out.client->handshake();
      if (out.step == ClientStream::Step::kFailed) return;
      const net::IoResult io = out.server->read(buffer, sizeof buffer);
      if (io.kind == net::IoResult::Kind::kError || io.kind == net::IoResult::Kind::kEof) {
        out.step = out.client->handshake();  // the alert the server sent
        return;
      }
      if (out.step == ClientStream::Step::kDone && out.server->handshakeDone()) break;
    }
    ASSERT_EQ(out.step, ClientStream::Step::kDone);
    const std::string request = "GET / HTTP/1.1\r\nHost: origin.test\r\n\r\n";
    const iovec segment{const_cast<char*>(request.data()), request.size()};
    ASSERT_EQ(out.client->writev(&segment, 1).bytes, request.size());
    std::string got;
    for (int round = 0; round < 200 && got.size() < request.size(); ++round) {
      const net::IoResult io = out.server->read(buffer, sizeof buffer);
      if (io.kind == net::IoResult::Kind::kBytes) got.append(buffer, io.bytes);
    }
    EXPECT_EQ(got, request);
    const std::string answer = "HTTP/1.1 204 No Content\r\n\r\n";
    const iovec reply{const_cast<char*>(answer.data()), answer.size()};
    ASSERT_EQ(out.server->writev(&reply, 1).bytes, answer.size());
    got.clear();
    for (int round = 0; round < 200 && got.size() < answer.size(); ++round) {
      const net::IoResult io = out.client->read(buffer, sizeof buffer);
      if (io.kind == net::IoResult::Kind::kBytes) got.append(buffer, io.bytes);
    }
    EXPECT_EQ(got, answer);
  }

  ClientTempDir dir_;
  config::CertificateConfig origin_cert_;
  config::CertificateConfig other_cert_;
  config::TlsConfig server_config_;
  config::OriginTlsConfig client_config_;
  TlsStats stats_;
};

TEST_F(ClientContextTest, VerifiedHandshakeCarriesDataAndTheNextConnectionResumes) {
  auto context = ClientContext::create(client_config_, "origin.test");
  ASSERT_TRUE(context.ok()) << context.error().context;
  EXPECT_EQ((*context)->serverName(), "origin.test");
  {
    Outcome first;
    connect(**context, first);
    ASSERT_EQ(first.step, ClientStream::Step::kDone);
    EXPECT_FALSE(first.client->resumed());
    EXPECT_STREQ(first.client->version(), "TLSv1.3");
    EXPECT_EQ(first.server->info().sni, "origin.test");
  }
  EXPECT_TRUE((*context)->hasSession());
}

TEST_F(ClientContextTest, SecondConnectionToTheSameServerResumes) {
  for (const char* version : {"TLSv1.3", "TLSv1.2"}) {
    client_config_.max_version = version;
    auto context = ClientContext::create(client_config_, "origin.test");
    ASSERT_TRUE(context.ok()) << context.error().context;
    auto server_context = ServerContext::create(server_config_, stats_);
    ASSERT_TRUE(server_context.ok());
    for (int i = 0; i < 2; ++i) {
      int fds[2];
      ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
      auto server = (*server_context)->accept(fds[0]);
      auto client = (*context)->connect(fds[1]);
      char buffer[4096];
      ClientStream::Step step = ClientStream::Step::kWantRead;
      for (int round = 0; round < 200; ++round) {
        step = client->handshake();
        server->read(buffer, sizeof buffer);
        if (step == ClientStream::Step::kDone && server->handshakeDone()) break;
      }
      ASSERT_EQ(step, ClientStream::Step::kDone) << version;
      // TLS 1.3 tickets arrive after the handshake: a read takes them in.
      client->read(buffer, sizeof buffer);
      EXPECT_EQ(client->resumed(), i == 1) << version << " connection " << i;
      EXPECT_STREQ(client->version(), version);
      client.reset();
      server.reset();
      close(fds[0]);
      close(fds[1]);
    }
  }
}

TEST_F(ClientContextTest, WrongNameIsAVerificationFailure) {
  auto context = ClientContext::create(client_config_, "wrong.test");
  ASSERT_TRUE(context.ok()) << context.error().context;
  Outcome out;
  connect(**context, out);
  ASSERT_EQ(out.step, ClientStream::Step::kFailed);
  EXPECT_EQ(out.client->failure(), ClientStream::Failure::kVerify);
  EXPECT_NE(out.client->failureDetail().find("hostname mismatch"), std::string::npos)
      << out.client->failureDetail();
}

TEST_F(ClientContextTest, UntrustedCaIsAVerificationFailureUnlessVerifyIsOff) {
  client_config_.ca_file = other_cert_.cert;
  auto context = ClientContext::create(client_config_, "origin.test");
  ASSERT_TRUE(context.ok()) << context.error().context;
  {
    Outcome out;
    connect(**context, out);
    ASSERT_EQ(out.step, ClientStream::Step::kFailed);
    EXPECT_EQ(out.client->failure(), ClientStream::Failure::kVerify);
    EXPECT_NE(out.client->failureDetail().find("self-signed"), std::string::npos)
        << out.client->failureDetail();
  }
  client_config_.verify = false;
  auto lax = ClientContext::create(client_config_, "origin.test");
  ASSERT_TRUE(lax.ok());
  Outcome out;
  connect(**lax, out);
  EXPECT_EQ(out.step, ClientStream::Step::kDone);
}

TEST_F(ClientContextTest, VersionMismatchIsAHandshakeFailure) {
  server_config_.max_version = "TLSv1.2";
  client_config_.min_version = "TLSv1.3";
  auto context = ClientContext::create(client_config_, "origin.test");
  ASSERT_TRUE(context.ok()) << context.error().context;
  Outcome out;
  connect(**context, out);
  ASSERT_EQ(out.step, ClientStream::Step::kFailed);
  EXPECT_EQ(out.client->failure(), ClientStream::Failure::kHandshake);
  EXPECT_FALSE(out.client->failureDetail().empty());
}

TEST_F(ClientContextTest, LoadErrorsNameTheFile) {
  client_config_.ca_file = dir_.file("missing.pem");
  auto context = ClientContext::create(client_config_, "origin.test");
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("missing.pem"), std::string::npos) << context.error().context;

  client_config_.ca_file = "";
  client_config_.cert = origin_cert_.cert;
  client_config_.key = other_cert_.key;
  context = ClientContext::create(client_config_, "origin.test");
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().context.find("other.key"), std::string::npos) << context.error().context;
  EXPECT_NE(context.error().context.find("mismatch"), std::string::npos) << context.error().context;

  client_config_.key = origin_cert_.key;
  context = ClientContext::create(client_config_, "origin.test");
  EXPECT_TRUE(context.ok()) << context.error().context;  // the system bundle, a client certificate
}

TEST_F(ClientContextTest, AnIpAddressIsVerifiedAsAnIpAndSendsNoSni) {
  auto context = ClientContext::create(client_config_, "127.0.0.1");
  ASSERT_TRUE(context.ok());
  Outcome out;
  connect(**context, out);
  ASSERT_EQ(out.step, ClientStream::Step::kFailed);  // the certificate names origin.test only
  EXPECT_EQ(out.client->failure(), ClientStream::Failure::kVerify);
  EXPECT_NE(out.client->failureDetail().find("IP address mismatch"), std::string::npos)
      << out.client->failureDetail();
}

}  // namespace
}  // namespace ec::tls
