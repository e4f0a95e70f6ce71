#include "tls/tls_stats.h"

namespace ec::tls {
namespace {
using observe::MetricDecl;
using Type = observe::MetricDecl::Type;

const MetricDecl kHandshakes{
    "edgecache_tls_handshakes_total",
    "Completed TLS handshakes by protocol version, certificate key type (auth) and session "
    "(new, or reused by resumption).",
    Type::kCounter, {"version", "auth", "session"}, {}, ""};
const MetricDecl kFailures{
    "edgecache_tls_handshake_failures_total",
    "TLS handshakes that did not complete, by reason: no_shared_cipher, unsupported_version, "
    "no_application_protocol, http_request (plain HTTP on a TLS port), protocol, closed, "
    "timeout.",
    Type::kCounter, {"reason"}, {}, ""};
const MetricDecl kSelections{
    "edgecache_tls_certificate_selections_total",
    "Certificate chosen for a handshake by how SNI matched: exact name, wildcard, or the "
    "default certificate (no SNI, or no certificate for it).",
    Type::kCounter, {"match"}, {}, ""};

const MetricDecl kReloads{
    "edgecache_tls_reloads_total",
    "TLS context rebuilds (SIGHUP, or a certificate, key or ticket-key file changed), by "
    "outcome; on failure the previous certificates keep serving and the reason is logged.",
    Type::kCounter, {"outcome"}, {}, ""};

double load(const std::atomic<uint64_t>& value) {
  return static_cast<double>(value.load(std::memory_order_relaxed));
}
}  // namespace

const char* versionName(TlsVersion version) {
  return version == TlsVersion::kTls13 ? "TLSv1.3" : "TLSv1.2";
}
const char* keyTypeName(KeyType type) { return type == KeyType::kRsa ? "RSA" : "ECDSA"; }
const char* certMatchName(CertMatch match) {
  switch (match) {
    case CertMatch::kExact: return "exact";
    case CertMatch::kWildcard: return "wildcard";
    default: return "default";
  }
}
const char* failureName(HandshakeFailure failure) {
  switch (failure) {
    case HandshakeFailure::kNoSharedCipher: return "no_shared_cipher";
    case HandshakeFailure::kUnsupportedVersion: return "unsupported_version";
    case HandshakeFailure::kNoApplicationProtocol: return "no_application_protocol";
    case HandshakeFailure::kHttpOnTlsPort: return "http_request";
    case HandshakeFailure::kProtocol: return "protocol";
    case HandshakeFailure::kClosed: return "closed";
    case HandshakeFailure::kTimeout: return "timeout";
    case HandshakeFailure::kCount: break;
  }
  return "unknown";
}

const std::vector<const observe::MetricDecl*>& metricDecls() {
  static const std::vector<const MetricDecl*> decls = {&kHandshakes, &kFailures, &kSelections,
                                                        &kReloads};
  return decls;
}

void registerMetrics(observe::Registry& registry, TlsStats& stats) {
  for (size_t v = 0; v < static_cast<size_t>(TlsVersion::kCount); ++v) {
    for (size_t a = 0; a < static_cast<size_t>(KeyType::kCount); ++a) {
      for (size_t r = 0; r < 2; ++r) {
        registry.callback(kHandshakes,
                          {versionName(static_cast<TlsVersion>(v)),
                           keyTypeName(static_cast<KeyType>(a)), r == 1 ? "reused" : "new"},
                          [&stats, v, a, r] { return load(stats.handshakes[v][a][r]); });
      }
    }
  }
  for (size_t f = 0; f < static_cast<size_t>(HandshakeFailure::kCount); ++f) {
    registry.callback(kFailures, {failureName(static_cast<HandshakeFailure>(f))},
                      [&stats, f] { return load(stats.failures[f]); });
  }
  registry.callback(kReloads, {"ok"}, [&stats] { return load(stats.reloads_ok); });
  registry.callback(kReloads, {"failed"}, [&stats] { return load(stats.reloads_failed); });
  for (size_t m = 0; m < static_cast<size_t>(CertMatch::kCount); ++m) {
    registry.callback(kSelections, {certMatchName(static_cast<CertMatch>(m))},
                      [&stats, m] { return load(stats.selections[m]); });
  }
}

}  // namespace ec::tls
