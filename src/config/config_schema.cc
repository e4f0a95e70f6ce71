#include "config/config_schema.h"

namespace ec::config {
namespace {

constexpr uint64_t kKiB = uint64_t{1} << 10;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr uint64_t kSecond = 1000;  // in milliseconds
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;
constexpr uint64_t kDay = 24 * kHour;
constexpr uint64_t kDayS = 86400;  // in seconds

constexpr auto R = Reload::kReloadable;
constexpr auto kRestart = Reload::kRestart;

}  // namespace

const SectionDecl<Config>& topLevelDecl() {
  using C = Config;
  static const SectionDecl<Config> decl{
      "",
      "Settings of the whole node.",
      {
          {"node_name", FieldType::kString, &C::node_name, R,
           "Node name shown in X-Cache (`<node> hit`). Default: the short host name.", 0, 64},
          {"workers", FieldType::kCount, &C::workers, kRestart,
           "Worker threads, each with its own event loop; 0 means one per CPU core.", 0, 1024},
      },
      {
          {"listeners", "List of client-facing listeners (at least one)."},
          {"admin", "The admin listener: /healthz and /metrics."},
          {"limits", "Request limits and client timeouts."},
          {"cache", "The memory tier and HTTP caching policy."},
          {"services", "Sites served, matched by Host, and their origins (at least one)."},
          {"http2", "HTTP/2 limits and flood budgets (TLS listeners with ALPN h2)."},
          {"demo", "The built-in demo origin, for trying edgecache out."},
          {"purge", "Purging: HTTP PURGE, HTCP CLR and Kafka resource_change events."},
          {"access_log", "The JSON access log (webrequest fields), to a file or stdout."},
      }};
  return decl;
}

const SectionDecl<ListenerConfig>& listenerDecl() {
  static const SectionDecl<ListenerConfig> decl{
      "listeners[]",
      "One client-facing listener; several workers share it with SO_REUSEPORT.",
      {{"address", FieldType::kString, &ListenerConfig::address, kRestart,
        "IP address and port to listen on, `127.0.0.1:8080` or `[::1]:8080`."}},
      {{"tls", "TLS termination on this listener (absent: plain HTTP). See docs/user/tls.md."}}};
  return decl;
}

const SectionDecl<TlsConfig>& tlsDecl() {
  using T = TlsConfig;
  static const SectionDecl<TlsConfig> decl{
      "listeners[].tls",
      "TLS on a listener (everything here is re-read on SIGHUP and when a certificate, key or "
      "ticket-key file changes; a broken new set keeps the old one). Certificates chosen by SNI (exact name, then `*.` wildcard, then the "
      "first certificate), ECDSA and RSA side by side, ALPN. Handshakes count in "
      "`edgecache_tls_handshakes_total`, failures in `edgecache_tls_handshake_failures_total`.",
      {
          {"min_version", FieldType::kChoice, &T::min_version, R,
           "Oldest protocol version accepted.", 0, kNoMax, false, {"TLSv1.2", "TLSv1.3"}},
          {"max_version", FieldType::kChoice, &T::max_version, R,
           "Newest protocol version offered.", 0, kNoMax, false, {"TLSv1.2", "TLSv1.3"}},
          {"ciphers", FieldType::kString, &T::ciphers, R,
           "TLS 1.2 cipher list (OpenSSL syntax): forward-secret AEAD suites only by default.", 1,
           4096},
          {"ciphersuites", FieldType::kString, &T::ciphersuites, R,
           "TLS 1.3 cipher suites (OpenSSL syntax).", 1, 4096},
          {"groups", FieldType::kString, &T::groups, R,
           "Key exchange groups, most preferred first.", 1, 1024},
          {"alpn", FieldType::kStringList, &T::alpn, R,
           "Application protocols offered by ALPN, most preferred first: `h2`, `http/1.1`."},
          {"session_cache_size", FieldType::kCount, &T::session_cache_size, R,
           "Sessions kept for ID resumption by each listener; 0 turns the cache off.", 0,
           10000000},
          {"session_lifetime", FieldType::kDurationS, &T::session_lifetime_s, R,
           "How long a session may be resumed.", 1, 7 * kDayS},
          {"session_tickets", FieldType::kBool, &T::session_tickets, R,
           "Issue session tickets (TLS 1.2 and 1.3). false: none are sent, so TLS 1.3 never "
           "resumes and TLS 1.2 resumes only by session ID; with `session_cache_size: 0` too, "
           "resumption is off and handshakes skip the ticket work."},
          {"ticket_key_file", FieldType::kString, &T::ticket_key_file, R,
           "Session-ticket keys shared by every node of a cluster: 80-byte keys back to back "
           "(16 name, 32 HMAC, 32 AES); the first encrypts, all decrypt, so a rotation writes "
           "the new key first and keeps the old one after it. Re-read on change. Empty: random "
           "keys per process.", 0, 4096},
      },
      {{"certificates", "The certificates (at least one); the first is the default."}}};
  return decl;
}

const SectionDecl<CertificateConfig>& certificateDecl() {
  using C = CertificateConfig;
  static const SectionDecl<CertificateConfig> decl{
      "listeners[].tls.certificates[]",
      "One certificate. Its names (subjectAltName DNS entries, else the common name) decide "
      "which SNI values it answers; certificates with the same names and different key types "
      "(ECDSA, RSA) are offered together and the handshake picks what the client supports.",
      {
          {"cert", FieldType::kString, &C::cert, R,
           "PEM file: the certificate, then its chain.", 1, 4096, true},
          {"key", FieldType::kString, &C::key, R, "PEM file: the private key.", 1, 4096,
           true},
      }};
  return decl;
}

const SectionDecl<AdminConfig>& adminDecl() {
  using A = AdminConfig;
  static const SectionDecl<AdminConfig> decl{
      "admin",
      "The admin listener. Keep it on loopback or a management network.",
      {
          {"address", FieldType::kString, &A::address, kRestart,
           "IP address and port of the admin listener."},
          {"allow", FieldType::kStringList, &A::allow, R,
           "Address blocks (CIDR) whose clients may reach the admin listener; others get 403."},
      }};
  return decl;
}

const SectionDecl<LimitsConfig>& limitsDecl() {
  using L = LimitsConfig;
  static const SectionDecl<LimitsConfig> decl{
      "limits",
      "Bounds on what a client may send. Each limit answers with its status and counts in "
      "`edgecache_parse_errors_total{kind=...}`.",
      {
          {"max_request_line", FieldType::kSize, &L::max_request_line, R,
           "Longest request line; longer gets 414.", 64, 1 * kMiB},
          {"max_field_size", FieldType::kSize, &L::max_field_size, R,
           "Longest single header field line; longer gets 431.", 64, 1 * kMiB},
          {"max_fields", FieldType::kCount, &L::max_fields, R,
           "Most header fields in one request; more gets 431.", 1, 10000},
          {"max_header_bytes", FieldType::kSize, &L::max_header_bytes, R,
           "Largest header section in all; larger gets 431.", 1 * kKiB, 16 * kMiB},
          {"max_request_body", FieldType::kSize, &L::max_request_body, R,
           "Largest request body; larger gets 413. 0 refuses every body.", 0, 1 * kTiB},
          {"max_connections", FieldType::kCount, &L::max_connections, R,
           "Most client connections open at once per node; further ones are closed at once "
           "and counted in `edgecache_client_connections_total{outcome=\"rejected\"}`.",
           1, 1000000},
          {"header_timeout", FieldType::kDurationMs, &L::header_timeout_ms, R,
           "Time a client has to send a complete header section; then 408 and close "
           "(`edgecache_header_timeouts_total`).",
           100, 1 * kHour},
          {"idle_timeout", FieldType::kDurationMs, &L::idle_timeout_ms, R,
           "Time an idle keep-alive client connection stays open. A connection still sending "
           "its answer is not idle, however long the download takes.", 1 * kSecond, 1 * kDay},
          {"send_timeout", FieldType::kDurationMs, &L::send_timeout_ms, R,
           "Longest time a client may take no bytes at all while an answer waits for it; then "
           "the connection is closed (`edgecache_client_send_timeouts_total`). Guards against "
           "clients that stop reading (slow-read attacks) without cutting slow downloads. Over "
           "HTTP/2 a stream whose own window stays shut that long is reset (CANCEL).",
           1 * kSecond, 1 * kHour},
          {"min_send_rate", FieldType::kSize, &L::min_send_rate, R,
           "Fewest bytes per second a client must take, measured over each send_timeout, while "
           "an answer waits for it (its socket full, or its HTTP/2 windows shut); slower, the "
           "connection is closed (HTTP/2: GOAWAY ENHANCE_YOUR_CALM; a single stream: "
           "RST_STREAM CANCEL) and counted in `edgecache_client_send_too_slow_total`. Stops a "
           "client that reads one byte, or opens one byte of window, per send_timeout "
           "(\"data dribble\"). 240 as Kestrel and IIS; 0: any byte is progress.",
           0, 1 * kGiB},
          {"body_timeout", FieldType::kDurationMs, &L::body_timeout_ms, R,
           "Longest time a client may send no byte of a request body the proxy waits for (not "
           "while the origin is behind); then 408 if no answer has started, else the connection "
           "(HTTP/1.1) or the stream (HTTP/2, RST_STREAM CANCEL) ends "
           "(`edgecache_client_body_timeouts_total`). An HTTP/2 stream opened without "
           "END_STREAM and then silent ends the same way.",
           100, 1 * kHour},
          {"min_body_rate", FieldType::kSize, &L::min_body_rate, R,
           "Fewest request body bytes per second, measured over each body_timeout, a client must "
           "send while the proxy waits for them; slower ends as body_timeout does (slow POST "
           "attacks). 240 as Kestrel; 0: any byte is progress.",
           0, 1 * kGiB},
          {"drain_timeout", FieldType::kDurationMs, &L::drain_timeout_ms, R,
           "On SIGTERM, how long in-flight requests may take before the node exits anyway.", 0,
           1 * kHour},
          {"max_ranges", FieldType::kCount, &L::max_ranges, R,
           "Most ranges in one Range header; more are answered with the whole object.", 1, 1000},
      }};
  return decl;
}

const SectionDecl<CacheConfig>& cacheDecl() {
  using C = CacheConfig;
  static const SectionDecl<CacheConfig> decl{
      "cache",
      "The memory tier and the HTTP caching policy (RFC 9111, RFC 5861).",
      {
          {"memory_size", FieldType::kSize, &C::memory_size, kRestart,
           "Bytes of the memory tier: bodies, headers and index overhead all count.", 1 * kMiB,
           1 * kTiB},
          {"max_object_size", FieldType::kSize, &C::max_object_size, R,
           "Largest object stored; larger responses stream through uncached. At most "
           "`memory_size`.",
           1 * kKiB, 1 * kTiB},
          {"ttl_cap", FieldType::kDurationS, &C::ttl_cap_s, R,
           "Upper bound on any freshness lifetime, whatever the origin says.", 1, 365 * kDayS},
          {"default_ttl", FieldType::kDurationS, &C::default_ttl_s, R,
           "Freshness given to responses without any freshness information; 0 stores them but "
           "revalidates every use. At most `ttl_cap`.",
           0, 365 * kDayS},
          {"heuristic_fraction", FieldType::kFraction, &C::heuristic_fraction, R,
           "Heuristic freshness as a fraction of the Last-Modified age (RFC 9111 §4.2.2).", 0,
           1000000},
          {"heuristic_cap", FieldType::kDurationS, &C::heuristic_cap_s, R,
           "Upper bound on heuristic freshness.", 0, 365 * kDayS},
          {"cache_set_cookie", FieldType::kBool, &C::cache_set_cookie, R,
           "Store responses that carry Set-Cookie (the cookie is stored and replayed)."},
          {"honor_request_no_cache", FieldType::kBool, &C::honor_request_no_cache, R,
           "Let a client's `Cache-Control: no-cache` force revalidation with the origin."},
          {"honor_request_max_age", FieldType::kBool, &C::honor_request_max_age, R,
           "Let a client's `Cache-Control: max-age` (a browser reload sends max-age=0) force "
           "revalidation when the object is older."},
          {"hit_for_pass", FieldType::kDurationS, &C::hit_for_pass_s, R,
           "How long a key whose response was uncacheable skips coalescing and goes straight "
           "to the origin.",
           0, 1 * kDayS},
          {"grace", FieldType::kDurationS, &C::grace_s, R,
           "How long past expiry a stale object may be served when the origin fails, for "
           "objects without stale-if-error (an explicit stale-if-error window is never "
           "extended).",
           0, 7 * kDayS},
          {"eviction",
           FieldType::kChoice,
           &C::eviction,
           kRestart,
           "Eviction policy of the memory tier: `s3fifo` or `lru`.",
           0,
           kNoMax,
           false,
           {"s3fifo", "lru"}},
          {"shards", FieldType::kCount, &C::shards, kRestart,
           "Independent shards of the memory tier (each with its own lock and eviction).", 1, 1024},
          {"disk_max_object_size", FieldType::kSize, &C::disk_max_object_size, kRestart,
           "Largest object the disk tier stores (it is written in fragments and can be served, "
           "and range-served, while it is still arriving). Used only with `disk`.",
           1 * kKiB, 1 * kTiB},
          {"disk_sync_interval", FieldType::kDurationMs, &C::disk_sync_interval_ms, kRestart,
           "How often the disk tier's writer calls fdatasync while it writes: what a power "
           "loss can lose at most (kill -9 loses only objects not yet written). 0: never.",
           0, 1 * kHour},
          {"disk_checkpoint_interval", FieldType::kDurationMs, &C::disk_checkpoint_interval_ms,
           kRestart,
           "How often the disk tier's writer checkpoints its index while the log moves (also at "
           "a clean stop and every half lap of the log): a start loads the checkpoint and scans "
           "only the log written after it. 0: at a clean stop and every half lap only.",
           0, 24 * kHour},
          {"disk_zero_copy", FieldType::kBool, &C::disk_zero_copy, kRestart,
           "Serve disk hits not headed for memory straight from the store file's pages (mapped, "
           "checked in place, spliced to the socket: no copy); the writer then punches each "
           "segment out of the file before rewriting it. Off, or where the file system cannot "
           "punch holes, a disk hit is read into memory first. Used only with `disk`."},
          {"memory_admission",
           FieldType::kChoice,
           &C::memory_admission,
           kRestart,
           "Which objects the memory tier takes in front of a disk tier: `exponential` admits an "
           "object of size s with probability exp(-s / `memory_admission_scale`) (small objects "
           "almost always, 4 MiB ones rarely), `all` admits every object. Without a disk tier "
           "every object is admitted.",
           0,
           kNoMax,
           false,
           {"exponential", "all"}},
          {"memory_admission_scale", FieldType::kSize, &C::memory_admission_scale, kRestart,
           "Size scale of the exponential admission: 1MiB admits 256 KiB objects 78% of the time, "
           "1 MiB 37%, 4 MiB 2%.",
           1 * kKiB, 1 * kTiB},
      },
      {{"disk", "The disk tier: store files (or block devices), one entry each."}}};
  return decl;
}

const SectionDecl<DiskConfig>& diskDecl() {
  static const SectionDecl<DiskConfig> decl{
      "cache.disk[]",
      "One store file of the disk tier, managed as a log-structured cyclic store "
      "(docs/design/disk-store.md). Objects are spread over the files by key hash. A file that "
      "cannot be created or fails later is marked down (`edgecache_disk_store_up{path}` 0, "
      "/healthz detail) and the node keeps serving from memory and the origin.",
      {
          {"path", FieldType::kString, &DiskConfig::path, kRestart,
           "File (created and preallocated if missing) or block device.", 1, 4096, true},
          {"size", FieldType::kSize, &DiskConfig::size, kRestart,
           "Bytes of the store; a file is preallocated to this size.", 16 * kMiB, 64 * kTiB,
           true},
          {"checkpoint", FieldType::kString, &DiskConfig::checkpoint, kRestart,
           "File holding the store's index checkpoint (written at a clean stop and "
           "periodically; a start loads it and scans only the log written after it). Default: "
           "`<path>.index` for a file, none for a block device (every start scans the device).",
           1, 4096},
      }};
  return decl;
}

const SectionDecl<ServiceConfig>& serviceDecl() {
  using S = ServiceConfig;
  static const SectionDecl<ServiceConfig> decl{
      "services[]",
      "A site: the Host values it answers and the origins behind it. The most specific "
      "pattern wins: exact, then the longest `*.` suffix, then `*`.",
      {
          {"name", FieldType::kString, &S::name, R, "Unique name, used in metrics labels and logs.",
           1, 64, true},
          {"hosts", FieldType::kStringList, &S::hosts, R,
           "Host patterns: `en.wiki.test` (exact), `*.wiki.test` (any subdomain) or `*` "
           "(any host). Lowercase, no port.",
           0, kNoMax, true},
          {"https_redirect", FieldType::kBool, &S::https_redirect, R,
           "On plain-HTTP listeners, send this service's clients to HTTPS: 301 to the same URL "
           "for GET and HEAD, 403 for other methods (`edgecache_https_redirects_total`)."},
          {"hsts_max_age", FieldType::kDurationS, &S::hsts_max_age_s, R,
           "When non-zero, answers over TLS carry `Strict-Transport-Security: max-age=...`.", 0,
           2 * 365 * kDayS},
          {"hsts_include_subdomains", FieldType::kBool, &S::hsts_include_subdomains, R,
           "Add `includeSubDomains` to Strict-Transport-Security."},
          {"hsts_preload", FieldType::kBool, &S::hsts_preload, R,
           "Add `preload` to Strict-Transport-Security."},
          {"hsts_source", FieldType::kChoice, &S::hsts_source, R,
           "When the origin's answer carries its own Strict-Transport-Security: `origin` "
           "keeps it and adds none, `config` replaces it with the configured one.",
           0, kNoMax, false, {"origin", "config"}},
          {"https_port", FieldType::kCount, &S::https_port, R,
           "Port in the https_redirect Location (left out when 443). 0: the port of the first "
           "TLS listener.", 0, 65535},
      },
      {{"origins", "The origin servers of this service (at least one)."}}};
  return decl;
}

const SectionDecl<OriginConfig>& originDecl() {
  using O = OriginConfig;
  static const SectionDecl<OriginConfig> decl{
      "services[].origins[]",
      "One origin server of a service. Failures answer 502 (refused, reset) or 504 (timeout) "
      "and count in `edgecache_origin_errors_total{origin,kind}`.",
      {
          {"address", FieldType::kString, &O::address, R,
           "`host:port` of the origin; a host name is resolved at start-up.", 0, kNoMax, true},
          {"connect_timeout", FieldType::kDurationMs, &O::connect_timeout_ms, R,
           "Time to establish a connection to the origin (and its TLS handshake).", 1, 10 * kMinute},
          {"first_byte_timeout", FieldType::kDurationMs, &O::first_byte_timeout_ms, R,
           "Time from the end of the request (a request body included) to the first byte of the "
           "response.", 1, 1 * kHour},
          {"between_bytes_timeout", FieldType::kDurationMs, &O::between_bytes_timeout_ms, R,
           "Longest silence while a response body is arriving, and longest stall while the origin "
           "takes the request (a slow client's upload is not counted).", 1, 1 * kHour},
          {"max_connections", FieldType::kCount, &O::max_connections, R,
           "Most connections open to this origin at once; further requests queue.", 1, 100000},
      },
      {{"tls", "Talk to this origin over TLS (absent: plain HTTP). See docs/user/tls.md."}}};
  return decl;
}

const SectionDecl<OriginTlsConfig>& originTlsDecl() {
  using T = OriginTlsConfig;
  static const SectionDecl<OriginTlsConfig> decl{
      "services[].origins[].tls",
      "TLS toward an origin: the chain and the name are verified, connections are pooled and "
      "kept alive like plain ones, and sessions resume. A failed handshake answers 502 and "
      "counts in `edgecache_origin_errors_total{kind=\"tls_verify\"|\"tls_handshake\"}`; "
      "handshakes count in `edgecache_origin_tls_handshakes_total`.",
      {
          {"enabled", FieldType::kBool, &T::enabled, R, "Connect to this origin with TLS."},
          {"ca_file", FieldType::kString, &T::ca_file, R,
           "PEM file of the CA certificates trusted for this origin. Empty: the system bundle.",
           0, 4096},
          {"verify", FieldType::kBool, &T::verify, R,
           "Verify the origin's certificate chain and name. Turn off only in a lab."},
          {"sni", FieldType::kString, &T::sni, R,
           "Server name sent in SNI and checked against the certificate. Empty: the host of "
           "`address` (an IP address is checked as an IP and sends no SNI).",
           0, 255},
          {"min_version", FieldType::kChoice, &T::min_version, R,
           "Oldest protocol version offered to the origin.", 0, kNoMax, false,
           {"TLSv1.2", "TLSv1.3"}},
          {"max_version", FieldType::kChoice, &T::max_version, R,
           "Newest protocol version offered to the origin.", 0, kNoMax, false,
           {"TLSv1.2", "TLSv1.3"}},
          {"cert", FieldType::kString, &T::cert, R,
           "PEM file: a client certificate (then its chain) shown to the origin. Empty: none.",
           0, 4096},
          {"key", FieldType::kString, &T::key, R,
           "PEM file: the client certificate's private key.", 0, 4096},
      }};
  return decl;
}

const SectionDecl<Http2Config>& http2Decl() {
  using H = Http2Config;
  static const SectionDecl<Http2Config> decl{
      "http2",
      "HTTP/2 connections (docs/user/http2.md). The first five are advertised in SETTINGS; "
      "the budgets are token buckets (`*_burst` frames at once, then `*_rate` per second) "
      "whose overrun ends the connection with GOAWAY ENHANCE_YOUR_CALM, counted in "
      "`edgecache_h2_calm_total{reason}`. New connections take a reloaded value; open ones "
      "keep theirs.",
      {
          {"max_concurrent_streams", FieldType::kCount, &H::max_concurrent_streams, R,
           "SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once; more are "
           "refused (RST_STREAM REFUSED_STREAM).", 1, 10000},
          {"initial_window_size", FieldType::kSize, &H::initial_window_size, R,
           "SETTINGS_INITIAL_WINDOW_SIZE: bytes of request body a stream may send before "
           "edgecache opens its window.", 1 * kKiB, (uint64_t{1} << 31) - 1},
          {"header_table_size", FieldType::kSize, &H::header_table_size, R,
           "SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table a client may use.", 0, 1 * kMiB},
          {"max_header_list_size", FieldType::kSize, &H::max_header_list_size, R,
           "SETTINGS_MAX_HEADER_LIST_SIZE: decoded header bytes per request (name + value + 32 "
           "per field). A larger request gets 431 on its stream and the connection lives on; "
           "four times this in one block is an HPACK bomb (GOAWAY).", 1 * kKiB, 16 * kMiB},
          {"max_continuations", FieldType::kCount, &H::max_continuations, R,
           "CONTINUATION frames allowed in one header block; more is a CONTINUATION flood.",
           1, 1000},
          {"reset_burst", FieldType::kCount, &H::reset_burst, R,
           "RST_STREAM frames from a client at once (rapid reset, CVE-2023-44487).", 1, 1000000},
          {"reset_rate", FieldType::kCount, &H::reset_rate, R,
           "RST_STREAM frames per second after the burst.", 1, 1000000},
          {"ping_burst", FieldType::kCount, &H::ping_burst, R, "PING frames at once.", 1, 1000000},
          {"ping_rate", FieldType::kCount, &H::ping_rate, R, "PING frames per second.", 1, 1000000},
          {"settings_burst", FieldType::kCount, &H::settings_burst, R, "SETTINGS frames at once.",
           1, 1000000},
          {"settings_rate", FieldType::kCount, &H::settings_rate, R,
           "SETTINGS frames per second.", 1, 1000000},
          {"empty_data_burst", FieldType::kCount, &H::empty_data_burst, R,
           "Empty DATA frames (without END_STREAM) at once.", 1, 1000000},
          {"empty_data_rate", FieldType::kCount, &H::empty_data_rate, R,
           "Empty DATA frames per second.", 1, 1000000},
          {"window_update_burst", FieldType::kCount, &H::window_update_burst, R,
           "WINDOW_UPDATE frames at once.", 1, 1000000},
          {"window_update_rate", FieldType::kCount, &H::window_update_rate, R,
           "WINDOW_UPDATE frames per second.", 1, 1000000},
          {"max_response_buffer", FieldType::kSize, &H::max_response_buffer, R,
           "Response bytes one connection holds copied for its client beyond the socket, over "
           "all its streams (each stream holds at most 256 KiB, and at least 16 KiB whatever "
           "the others hold). A client that reads slowly or keeps its windows shut cannot make "
           "the node buffer more (`edgecache_http2_response_buffer_full_total`).",
           64 * kKiB, 1 * kGiB},
      }};
  return decl;
}

const SectionDecl<DemoConfig>& demoDecl() {
  static const SectionDecl<DemoConfig> decl{
      "demo",
      "A built-in wiki-like origin with realistic caching headers, for trying edgecache out.",
      {
          {"enabled", FieldType::kBool, &DemoConfig::enabled, kRestart,
           "Start the demo origin inside the edgecache process."},
          {"address", FieldType::kString, &DemoConfig::address, kRestart,
           "IP address and port the demo origin listens on."},
      }};
  return decl;
}

const SectionDecl<AccessLogConfig>& accessLogDecl() {
  using A = AccessLogConfig;
  static const SectionDecl<AccessLogConfig> decl{
      "access_log",
      "One JSON line per request with the webrequest fields (docs/user/logging.md). Written by "
      "a background thread from bounded per-worker queues: a request never waits for the log; "
      "lines that do not fit are dropped and counted in "
      "`edgecache_access_log_dropped_total{reason=\"queue_full\"}`.",
      {
          {"enabled", FieldType::kBool, &A::enabled, kRestart, "Write the access log."},
          {"path", FieldType::kString, &A::path, kRestart,
           "File the lines are appended to (created 0644; reopened on SIGUSR1 for logrotate), "
           "or `-` for standard output, or empty for no file.", 0, 4096},
          {"queue_size", FieldType::kSize, &A::queue_size, kRestart,
           "Bytes of lines each worker may have waiting for the writer; more are dropped "
           "(`edgecache_access_log_dropped_total{reason=\"queue_full\"}`).", 4 * kKiB, 1 * kGiB},
          {"flush_interval", FieldType::kDurationMs, &A::flush_interval_ms, kRestart,
           "How often the writer thread empties the queues (sooner when one is half full).", 1,
           10 * kSecond},
          {"log_purges", FieldType::kBool, &A::log_purges, kRestart,
           "Also log PURGE requests (left out by default, as in Wikimedia's webrequest)."},
          {"kafka_brokers", FieldType::kString, &A::kafka_brokers, kRestart,
           "Kafka bootstrap servers (`host:port,host:port`) the lines are also produced to, "
           "one message per line; empty for no Kafka.", 0, 4096},
          {"kafka_topic", FieldType::kString, &A::kafka_topic, kRestart,
           "Kafka topic of the access log.", 1, 249},
          {"kafka_properties", FieldType::kStringList, &A::kafka_properties, kRestart,
           "Extra librdkafka producer properties, `key=value` (defaults: snappy, acks=1, "
           "batches of 9000 as varnishkafka). A full producer queue drops lines "
           "(`edgecache_access_log_dropped_total{reason=\"sink_error\"}`)."},
      }};
  return decl;
}

const SectionDecl<PurgeConfig>& purgeDecl() {
  using P = PurgeConfig;
  static const SectionDecl<PurgeConfig> decl{
      "purge",
      "Purging from every channel; each purge drops every variant of the URL in every tier. "
      "Counted in `edgecache_purges_{received,applied,rejected}_total{source}`.",
      {
          {"allow", FieldType::kStringList, &P::allow, R,
           "Address blocks (CIDR) whose clients may send HTTP PURGE; others get 405 "
           "(`edgecache_purges_rejected_total{reason=\"forbidden\"}`)."},
          {"host_regex", FieldType::kString, &P::host_regex, R,
           "Regular expression (ECMAScript) over the lowercase host of purged URLs: only "
           "matching hosts are cached here; others are answered 204 \"Domain not cached here\" "
           "and ignored. Empty: every host. Example: `^(?!(upload|maps)\\.wikimedia\\.org)`."},
      },
      {
          {"htcp", "HTCP CLR purges over UDP (RFC 2756), unicast and multicast."},
          {"kafka", "Purges from Kafka resource_change events."},
      }};
  return decl;
}

const SectionDecl<HtcpConfig>& htcpDecl() {
  using H = HtcpConfig;
  static const SectionDecl<HtcpConfig> decl{
      "purge.htcp",
      "HTCP CLR listener (the packets MediaWiki sends). Malformed packets count in "
      "`edgecache_purges_rejected_total{source=\"htcp\",reason=\"malformed\"}`.",
      {
          {"address", FieldType::kString, &H::address, kRestart,
           "UDP address and port to receive on, e.g. `0.0.0.0:4827`; empty: HTCP is off."},
          {"groups", FieldType::kStringList, &H::groups, kRestart,
           "IPv4 multicast groups to join, e.g. `239.128.0.112`."},
          {"interface", FieldType::kString, &H::interface, kRestart,
           "Local IPv4 address of the interface the groups are joined on; `0.0.0.0` lets the "
           "kernel choose."},
          {"allow", FieldType::kStringList, &H::allow, kRestart,
           "Address blocks (CIDR) whose packets are accepted; others count as "
           "`reason=\"forbidden\"`."},
          {"sequential_sources", FieldType::kStringList, &H::sequential_sources, kRestart,
           "Address blocks (CIDR) of senders whose transaction ids are sequential (newer "
           "MediaWiki): gaps count in `edgecache_htcp_lost_total`. Leave out senders with "
           "random ids."},
      }};
  return decl;
}

const SectionDecl<KafkaPurgeConfig>& kafkaPurgeDecl() {
  using K = KafkaPurgeConfig;
  static const SectionDecl<KafkaPurgeConfig> decl{
      "purge.kafka",
      "Kafka consumer of resource_change purge events (`meta.uri`, `meta.dt`, "
      "`root_event.dt`). Offsets are committed only after the purge is applied.",
      {
          {"brokers", FieldType::kString, &K::brokers, kRestart,
           "Bootstrap brokers, `host:port[,host:port...]`; empty: the consumer is off."},
          {"topics", FieldType::kStringList, &K::topics, kRestart,
           "Topics to consume, e.g. `eqiad.resource-purge` and `codfw.resource-purge`."},
          {"group_id", FieldType::kString, &K::group_id, kRestart,
           "Consumer group; default: the node name, so that every node gets every event."},
          {"max_age", FieldType::kDurationS, &K::max_age_s, kRestart,
           "Events older than this are dropped (`edgecache_purges_expired_total`); 0: no "
           "limit.",
           0, 365 * kDayS},
          {"properties", FieldType::kStringList, &K::properties, kRestart,
           "Extra librdkafka settings as `key=value` (TLS: `security.protocol=ssl`, "
           "`ssl.ca.location=...`)."},
      }};
  return decl;
}

std::string formatSize(uint64_t bytes) {
  struct Unit {
    uint64_t factor;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{kTiB, "TiB"}, {kGiB, "GiB"}, {kMiB, "MiB"}, {kKiB, "KiB"}};
  if (bytes != 0) {
    for (const Unit& unit : kUnits) {
      if (bytes % unit.factor == 0) return std::to_string(bytes / unit.factor) + unit.suffix;
    }
  }
  return std::to_string(bytes) + "B";
}

std::string formatDurationMillis(uint64_t millis) {
  struct Unit {
    uint64_t factor;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{kDay, "d"}, {kHour, "h"}, {kMinute, "m"}, {kSecond, "s"}};
  if (millis == 0) return "0s";
  for (const Unit& unit : kUnits) {
    if (millis % unit.factor == 0) return std::to_string(millis / unit.factor) + unit.suffix;
  }
  return std::to_string(millis) + "ms";
}

std::string formatBound(FieldType type, uint64_t bound) {
  switch (type) {
    case FieldType::kSize:
      return formatSize(bound);
    case FieldType::kDurationMs:
      return formatDurationMillis(bound);
    case FieldType::kDurationS:
      return formatDurationMillis(bound * 1000);
    case FieldType::kFraction: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(bound) / 1e6);
      return buffer;
    }
    default:
      return std::to_string(bound);
  }
}

std::string_view fieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kBool:
      return "bool";
    case FieldType::kCount:
      return "integer";
    case FieldType::kSize:
      return "size";
    case FieldType::kDurationMs:
    case FieldType::kDurationS:
      return "duration";
    case FieldType::kFraction:
      return "number";
    case FieldType::kStringList:
      return "list of strings";
    case FieldType::kChoice:
      return "choice";
  }
  return "?";
}

}  // namespace ec::config
