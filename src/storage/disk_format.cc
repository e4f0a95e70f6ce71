#include "storage/disk_format.h"

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ec::storage::disk {
namespace {

// ---- CRC-32C ----
struct CrcTable {
  uint32_t t[8][256];
  CrcTable() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};
const CrcTable& crcTable() {
  static const CrcTable table;
  return table;
}

uint32_t crcSoftware(uint32_t crc, const unsigned char* p, size_t n) {
  const CrcTable& tab = crcTable();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    word ^= crc;
    crc = tab.t[7][word & 0xff] ^ tab.t[6][(word >> 8) & 0xff] ^ tab.t[5][(word >> 16) & 0xff] ^
          tab.t[4][(word >> 24) & 0xff] ^ tab.t[3][(word >> 32) & 0xff] ^
          tab.t[2][(word >> 40) & 0xff] ^ tab.t[1][(word >> 48) & 0xff] ^ tab.t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ tab.t[0][(crc ^ *p++) & 0xff];
  return crc;
}

// The CRC register is linear: crc(s, A || B) = crc(s, A) * x^(8|B|) xor crc(0, B) (mod P, no
// pre/post inversion). So one buffer can be checksummed as three independent streams, which
// keeps the crc32 instruction's pipeline full (latency 3, throughput 1 per cycle: ~3x one
// chain), then combined with two multiplications mod P.
constexpr uint32_t kCrc32cReflected = 0x82f63b78;

// a * b mod P, reflected bit order (bit 31 is the x^0 coefficient).
uint32_t crcMultiply(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kCrc32cReflected : b >> 1;
  }
  return product;
}

// x^(8 * bytes) mod P.
uint32_t crcShiftFactor(uint64_t bytes) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t power = 1u << 23;   // x^8
  for (; bytes != 0; bytes >>= 1) {
    if (bytes & 1) result = crcMultiply(result, power);
    power = crcMultiply(power, power);
  }
  return result;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint64_t crcChain(uint64_t c, const unsigned char* p,
                                                    size_t n) {
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

// Three streams of `lane` bytes each (a multiple of 8), combined.
__attribute__((target("sse4.2"))) uint32_t crcThreeLanes(uint32_t crc, const unsigned char* p,
                                                         size_t lane, uint32_t shift_lane,
                                                         uint32_t shift_two_lanes) {
  uint64_t a = crc, b = 0, c = 0;
  const unsigned char* pb = p + lane;
  const unsigned char* pc = p + 2 * lane;
  for (size_t i = 0; i < lane; i += 8) {
    uint64_t wa, wb, wc;
    std::memcpy(&wa, p + i, 8);
    std::memcpy(&wb, pb + i, 8);
    std::memcpy(&wc, pc + i, 8);
    a = _mm_crc32_u64(a, wa);
    b = _mm_crc32_u64(b, wb);
    c = _mm_crc32_u64(c, wc);
  }
  return crcMultiply(static_cast<uint32_t>(a), shift_two_lanes) ^
         crcMultiply(static_cast<uint32_t>(b), shift_lane) ^ static_cast<uint32_t>(c);
}

uint32_t crcHardware(uint32_t crc, const unsigned char* p, size_t n) {
  struct Level {
    size_t lane;
    uint32_t shift_lane;
    uint32_t shift_two_lanes;
  };
  static const Level levels[] = {
      {32768, crcShiftFactor(32768), crcShiftFactor(65536)},
      {4096, crcShiftFactor(4096), crcShiftFactor(8192)},
      {512, crcShiftFactor(512), crcShiftFactor(1024)},
  };
  for (const Level& level : levels) {
    for (; n >= 3 * level.lane; p += 3 * level.lane, n -= 3 * level.lane) {
      crc = crcThreeLanes(crc, p, level.lane, level.shift_lane, level.shift_two_lanes);
    }
  }
  return static_cast<uint32_t>(crcChain(crc, p, n));
}
bool haveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

// ---- little-endian put/get ----
void put16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
void put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
uint16_t get16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
uint32_t get32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint64_t get64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { char b[2]; put16(b, v); out_.append(b, 2); }
  void u32(uint32_t v) { char b[4]; put32(b, v); out_.append(b, 4); }
  void u64(uint64_t v) { char b[8]; put64(b, v); out_.append(b, 8); }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void str(std::string_view s) { u32(static_cast<uint32_t>(s.size())); out_.append(s); }
 private:
  std::string& out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool atEnd() const { return pos_ == in_.size(); }
  uint8_t u8() { const char* p = take(1); return p ? static_cast<uint8_t>(*p) : 0; }
  uint16_t u16() { const char* p = take(2); return p ? get16(p) : 0; }
  uint32_t u32() { const char* p = take(4); return p ? get32(p) : 0; }
  uint64_t u64() { const char* p = take(8); return p ? get64(p) : 0; }
  int64_t i64() { return static_cast<int64_t>(u64()); }
  std::string str() {
    const uint32_t n = u32();
    const char* p = take(n);
    return p ? std::string(p, n) : std::string();
  }
  size_t remaining() const { return in_.size() - pos_; }
 private:
  const char* take(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return nullptr;
    }
    const char* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Error corrupt(const char* what) { return Error::internal(ErrorKind::kParse, what); }

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // Final mix (splitmix64) so the low bits are as good as the high ones.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

constexpr uint32_t kHeadVersion = 1;
constexpr uint32_t kMaxFragments = 1u << 20;

}  // namespace

uint32_t crc32c(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  if (haveSse42()) return ~crcHardware(crc, p, size);
#endif
  return ~crcSoftware(crc, p, size);
}

// File header layout: magic u64, version u32, store_id u32, file_bytes u64, segment_bytes u64,
// crc u32 (over the 32 bytes before it); the rest of the 4 KiB is zero.
void encodeFileHeader(const FileHeader& header, char out[kFileHeaderBytes]) {
  std::memset(out, 0, kFileHeaderBytes);
  put64(out, kFileMagic);
  put32(out + 8, header.version);
  put32(out + 12, header.store_id);
  put64(out + 16, header.file_bytes);
  put64(out + 24, header.segment_bytes);
  put32(out + 32, crc32c(0, out, 32));
}

std::optional<FileHeader> decodeFileHeader(std::string_view bytes) {
  if (bytes.size() < 36) return std::nullopt;
  const char* p = bytes.data();
  if (get64(p) != kFileMagic || get32(p + 32) != crc32c(0, p, 32)) return std::nullopt;
  FileHeader header;
  header.version = get32(p + 8);
  header.store_id = get32(p + 12);
  header.file_bytes = get64(p + 16);
  header.segment_bytes = get64(p + 24);
  if (header.version != kFormatVersion) return std::nullopt;
  return header;
}

// Record header layout (40 bytes): magic u32 | version u16 | type u8 | reserved u8 |
// store_id u32 | payload_bytes u32 | logical u64 | key u64 | aux u32 | crc u32.
void encodeRecord(RecordHeader header, std::string_view payload, char* out) {
  std::memcpy(out + kRecordHeaderBytes, payload.data(), payload.size());
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  sealRecord(header, out);
}

void sealRecord(RecordHeader header, char* out) {
  const uint64_t payload_bytes = header.payload_bytes;
  put32(out, kRecordMagic);
  put16(out + 4, kRecordVersion);
  out[6] = static_cast<char>(header.type);
  out[7] = 0;
  put32(out + 8, header.store_id);
  put32(out + 12, header.payload_bytes);
  put64(out + 16, header.logical);
  put64(out + 24, header.key);
  put32(out + 32, header.aux);
  put32(out + 36, 0);
  const uint64_t total = recordBytes(payload_bytes);
  std::memset(out + kRecordHeaderBytes + payload_bytes, 0,
              total - kRecordHeaderBytes - payload_bytes);
  uint32_t crc = crc32c(0, out, kRecordHeaderBytes);
  crc = crc32c(crc, out + kRecordHeaderBytes, payload_bytes);
  put32(out + 36, crc);
}

std::optional<RecordHeader> decodeRecordHeader(std::string_view bytes) {
  if (bytes.size() < kRecordHeaderBytes) return std::nullopt;
  const char* p = bytes.data();
  if (get32(p) != kRecordMagic || get16(p + 4) != kRecordVersion) return std::nullopt;
  const auto type = static_cast<uint8_t>(p[6]);
  if (type < 1 || type > 3) return std::nullopt;
  RecordHeader header;
  header.type = static_cast<RecordType>(type);
  header.store_id = get32(p + 8);
  header.payload_bytes = get32(p + 12);
  header.logical = get64(p + 16);
  header.key = get64(p + 24);
  header.aux = get32(p + 32);
  header.crc = get32(p + 36);
  return header;
}

bool verifyRecord(const RecordHeader& header, std::string_view record_bytes) {
  if (record_bytes.size() < kRecordHeaderBytes + uint64_t{header.payload_bytes}) return false;
  char head[kRecordHeaderBytes];
  std::memcpy(head, record_bytes.data(), kRecordHeaderBytes);
  put32(head + 36, 0);
  uint32_t crc = crc32c(0, head, kRecordHeaderBytes);
  crc = crc32c(crc, record_bytes.data() + kRecordHeaderBytes, header.payload_bytes);
  return crc == header.crc;
}

bool verifyRecordParts(const RecordHeader& header, const char* header_bytes,
                       const struct iovec* payload, int count) {
  char head[kRecordHeaderBytes];
  std::memcpy(head, header_bytes, kRecordHeaderBytes);
  put32(head + 36, 0);
  uint32_t crc = crc32c(0, head, kRecordHeaderBytes);
  uint64_t covered = 0;
  for (int i = 0; i < count; ++i) {
    crc = crc32c(crc, payload[i].iov_base, payload[i].iov_len);
    covered += payload[i].iov_len;
  }
  return covered == header.payload_bytes && crc == header.crc;
}

std::string encodeHead(const HeadPayload& head) {
  std::string out;
  out.reserve(256 + head.meta.head.size() + head.primary.size() + head.fragments.size() * 12);
  Writer w(out);
  const cache::ObjectMeta& m = head.meta;
  w.u32(kHeadVersion);
  w.u64(head.body_bytes);
  w.u64(head.fragments.empty() ? UINT64_MAX : head.fragments.front().logical);
  w.str(head.primary);
  w.str(head.secondary);
  w.u16(m.status);
  w.str(m.head);
  w.i64(m.request_time.time_since_epoch().count());
  w.i64(m.response_time.time_since_epoch().count());
  w.i64(m.corrected_initial_age);
  w.i64(m.freshness_lifetime);
  w.u8(static_cast<uint8_t>((m.heuristic_freshness ? 1 : 0) | (m.no_cache ? 2 : 0) |
                            (m.must_revalidate ? 4 : 0)));
  w.i64(m.stale_while_revalidate);
  w.i64(m.stale_if_error);
  w.str(m.etag);
  w.str(m.last_modified);
  w.i64(m.last_modified_time.time_since_epoch().count());
  w.u32(static_cast<uint32_t>(m.vary_names.size()));
  for (const std::string& name : m.vary_names) w.str(name);
  w.i64(m.content_length);
  w.str(m.upstream_x_cache);
  w.u32(static_cast<uint32_t>(head.fragments.size()));
  for (const FragmentRef& f : head.fragments) {
    w.u64(f.logical);
    w.u32(f.length);
  }
  return out;
}

Result<HeadPayload> decodeHead(std::string_view payload) {
  Reader r(payload);
  if (r.u32() != kHeadVersion) return fail(corrupt("head record: unknown version"));
  HeadPayload head;
  cache::ObjectMeta& m = head.meta;
  head.body_bytes = r.u64();
  const uint64_t first = r.u64();
  head.primary = r.str();
  head.secondary = r.str();
  m.status = r.u16();
  m.head = r.str();
  m.request_time = WallTime{Seconds{r.i64()}};
  m.response_time = WallTime{Seconds{r.i64()}};
  m.corrected_initial_age = r.i64();
  m.freshness_lifetime = r.i64();
  const uint8_t flags = r.u8();
  if (flags & ~7u) return fail(corrupt("head record: unknown flags"));
  m.heuristic_freshness = flags & 1;
  m.no_cache = flags & 2;
  m.must_revalidate = flags & 4;
  m.stale_while_revalidate = r.i64();
  m.stale_if_error = r.i64();
  m.etag = r.str();
  m.last_modified = r.str();
  m.last_modified_time = WallTime{Seconds{r.i64()}};
  const uint32_t vary_count = r.u32();
  if (!r.ok() || vary_count > r.remaining() / 4) return fail(corrupt("head record: vary count"));
  for (uint32_t i = 0; i < vary_count && r.ok(); ++i) m.vary_names.push_back(r.str());
  m.content_length = r.i64();
  m.upstream_x_cache = r.str();
  const uint32_t fragment_count = r.u32();
  if (!r.ok() || fragment_count > kMaxFragments || fragment_count > r.remaining() / 12) {
    return fail(corrupt("head record: fragment count"));
  }
  head.fragments.resize(fragment_count);
  uint64_t sum = 0;
  for (FragmentRef& f : head.fragments) {
    f.logical = r.u64();
    f.length = r.u32();
    sum += f.length;
  }
  if (!r.ok() || !r.atEnd()) return fail(corrupt("head record: truncated or trailing bytes"));
  if (sum != head.body_bytes) return fail(corrupt("head record: fragments do not add up"));
  if (first != (head.fragments.empty() ? UINT64_MAX : head.fragments.front().logical)) {
    return fail(corrupt("head record: first fragment differs from its summary"));
  }
  for (size_t i = 1; i < head.fragments.size(); ++i) {
    if (head.fragments[i].logical <= head.fragments[i - 1].logical) {
      return fail(corrupt("head record: fragments out of log order"));
    }
  }
  if (m.content_length >= 0 && static_cast<uint64_t>(m.content_length) != head.body_bytes) {
    return fail(corrupt("head record: body length differs from Content-Length"));
  }
  return head;
}

std::optional<HeadSummary> peekHeadSummary(std::string_view payload) {
  Reader r(payload);
  if (r.u32() != kHeadVersion) return std::nullopt;
  HeadSummary summary;
  summary.body_bytes = r.u64();
  summary.first_fragment = r.u64();
  if (!r.ok()) return std::nullopt;
  return summary;
}

std::string encodeTombstone(const TombstonePayload& tombstone) {
  std::string out;
  Writer w(out);
  w.str(tombstone.primary);
  w.u8(tombstone.secondary ? 1 : 0);
  if (tombstone.secondary) w.str(*tombstone.secondary);
  return out;
}

Result<TombstonePayload> decodeTombstone(std::string_view payload) {
  Reader r(payload);
  TombstonePayload tombstone;
  tombstone.primary = r.str();
  const uint8_t has_secondary = r.u8();
  if (has_secondary > 1) return fail(corrupt("tombstone: bad flag"));
  if (has_secondary) tombstone.secondary = r.str();
  if (!r.ok() || !r.atEnd()) return fail(corrupt("tombstone: truncated or trailing bytes"));
  return tombstone;
}

uint64_t keyHash(std::string_view primary) {
  const uint64_t h = fnv1a(primary);
  return h == 0 ? 1 : h;
}

uint8_t tag8(std::string_view text) { return static_cast<uint8_t>(fnv1a(text) >> 56); }

uint8_t varyTag(const std::vector<std::string>& vary_names) {
  std::string joined;
  for (const std::string& name : vary_names) {
    joined += name;
    joined += '\n';
  }
  return tag8(joined);
}

}  // namespace ec::storage::disk
