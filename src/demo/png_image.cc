#include "demo/png_image.h"

#include <algorithm>
#include <array>

namespace ec::demo {
namespace {

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

// A zlib stored block holds at most 65535 bytes (its LEN field is 16 bits).
constexpr size_t kMaxStoredBlock = 65535;

void appendBe32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

std::span<const uint8_t> bytesOf(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void appendChunk(std::string& out, const char type[4], const std::string& data) {
  appendBe32(out, static_cast<uint32_t>(data.size()));
  std::string typed(type, 4);
  typed += data;
  out += typed;
  appendBe32(out, crc32(bytesOf(typed)));  // the CRC covers type and data, not the length
}

// RFC 1950 header + RFC 1951 stored blocks + Adler-32 trailer.
std::string zlibStored(const std::string& raw) {
  std::string out;
  out.push_back(static_cast<char>(0x78));  // CMF: deflate, 32 KiB window
  out.push_back(static_cast<char>(0x01));  // FLG: (0x78 * 256 + 0x01) % 31 == 0, no dict
  size_t offset = 0;
  do {
    const size_t len = std::min(kMaxStoredBlock, raw.size() - offset);
    const bool final = offset + len == raw.size();
    out.push_back(static_cast<char>(final ? 1 : 0));  // BFINAL, BTYPE=00 (stored)
    out.push_back(static_cast<char>(len & 0xff));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(~len & 0xff));
    out.push_back(static_cast<char>((~len >> 8) & 0xff));
    out.append(raw, offset, len);
    offset += len;
  } while (offset < raw.size());
  appendBe32(out, adler32(bytesOf(raw)));
  return out;
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  crc = ~crc;
  for (uint8_t b : bytes) crc = kCrcTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t adler32(std::span<const uint8_t> bytes) {
  constexpr uint32_t kModulus = 65521;
  uint32_t a = 1;
  uint32_t b = 0;
  for (uint8_t byte : bytes) {
    a = (a + byte) % kModulus;
    b = (b + a) % kModulus;
  }
  return (b << 16) | a;
}

namespace detail {

std::string assemblePng(uint32_t width, uint32_t height, const std::string& scanlines) {
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  appendBe32(header, width);
  appendBe32(header, height);
  header.push_back(8);  // bit depth
  header.push_back(2);  // colour type: truecolour
  header.push_back(0);  // compression: deflate
  header.push_back(0);  // filter method 0
  header.push_back(0);  // no interlace
  appendChunk(out, "IHDR", header);
  appendChunk(out, "IDAT", zlibStored(scanlines));
  appendChunk(out, "IEND", "");
  return out;
}

}  // namespace detail

std::string makeDemoPng(uint32_t seed, uint32_t size) {
  const uint32_t base_r = (seed >> 16) & 0xff;
  const uint32_t base_g = (seed >> 8) & 0xff;
  const uint32_t base_b = seed & 0xff;
  return encodePng(size, size, [&](uint32_t x, uint32_t y) -> uint32_t {
    if ((x + y) % 8 < 2) return 0xffffff;  // a white diagonal stripe
    const uint32_t r = (base_r + x * 4) & 0xff;
    const uint32_t g = (base_g + y * 4) & 0xff;
    const uint32_t b = (base_b + (x ^ y) * 2) & 0xff;
    return (r << 16) | (g << 8) | b;
  });
}

}  // namespace ec::demo
