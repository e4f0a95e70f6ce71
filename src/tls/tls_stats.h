#pragma once
// TlsStats: the TLS counters every listener and worker updates (relaxed atomics), and their
// metric declarations and registration (edgecache_tls_*).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "observe/metric.h"
#include "observe/registry.h"

namespace ec::tls {

enum class TlsVersion : uint8_t { kTls12, kTls13, kCount };
enum class KeyType : uint8_t { kEcdsa, kRsa, kCount };
enum class CertMatch : uint8_t { kExact, kWildcard, kDefault, kCount };
enum class HandshakeFailure : uint8_t {
  kNoSharedCipher,
  kUnsupportedVersion,
  kNoApplicationProtocol,
  kHttpOnTlsPort,     // a plain HTTP request reached a TLS listener
  kProtocol,          // any other malformed or refused handshake
  kClosed,            // the client went away mid-handshake
  kTimeout,           // no finished handshake within limits.header_timeout
  kCount
};

const char* versionName(TlsVersion version);  // "TLSv1.2"
const char* keyTypeName(KeyType type);        // "ECDSA"
const char* certMatchName(CertMatch match);   // "exact"
const char* failureName(HandshakeFailure failure);

struct TlsStats {
  // [version][auth][resumed]
  std::array<std::array<std::array<std::atomic<uint64_t>, 2>, static_cast<size_t>(KeyType::kCount)>,
             static_cast<size_t>(TlsVersion::kCount)>
      handshakes{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(HandshakeFailure::kCount)> failures{};
  std::array<std::atomic<uint64_t>, static_cast<size_t>(CertMatch::kCount)> selections{};
  std::atomic<uint64_t> reloads_ok{0};
  std::atomic<uint64_t> reloads_failed{0};  // the old certificates and keys kept serving

  void countHandshake(TlsVersion version, KeyType auth, bool resumed) {
    handshakes[static_cast<size_t>(version)][static_cast<size_t>(auth)][resumed ? 1 : 0].fetch_add(
        1, std::memory_order_relaxed);
  }
  void countFailure(HandshakeFailure failure) {
    failures[static_cast<size_t>(failure)].fetch_add(1, std::memory_order_relaxed);
  }
  void countSelection(CertMatch match) {
    selections[static_cast<size_t>(match)].fetch_add(1, std::memory_order_relaxed);
  }
};

const std::vector<const observe::MetricDecl*>& metricDecls();
void registerMetrics(observe::Registry& registry, TlsStats& stats);

}  // namespace ec::tls
