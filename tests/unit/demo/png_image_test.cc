#include "demo/png_image.h"

#include <gtest/gtest.h>

#include <string>

namespace ec::demo {
namespace {

uint32_t be32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

std::span<const uint8_t> bytes(const std::string& s, size_t at, size_t n) {
  return {reinterpret_cast<const uint8_t*>(s.data()) + at, n};
}

TEST(PngImage, ChecksumsMatchKnownVectors) {
  const std::string text = "123456789";
  EXPECT_EQ(crc32(bytes(text, 0, text.size())), 0xcbf43926u);  // the standard CRC-32 check value
  const std::string wiki = "Wikipedia";
  EXPECT_EQ(adler32(bytes(wiki, 0, wiki.size())), 0x11e60398u);
}

// Walks the chunks, checks every CRC, and inflates the stored blocks by hand.
TEST(PngImage, FileIsStructurallyValid) {
  const uint32_t size = 200;  // 200 * (1 + 600) bytes of scanlines: needs two stored blocks
  const std::string png = encodePng(size, size, [](uint32_t x, uint32_t y) { return x * 256 + y; });
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  size_t pos = 8;
  std::string idat;
  std::vector<std::string> types;
  while (pos < png.size()) {
    const uint32_t len = be32(png, pos);
    const std::string type = png.substr(pos + 4, 4);
    types.push_back(type);
    EXPECT_EQ(crc32(bytes(png, pos + 4, len + 4)), be32(png, pos + 8 + len)) << type;
    if (type == "IHDR") {
      EXPECT_EQ(be32(png, pos + 8), size);
      EXPECT_EQ(be32(png, pos + 12), size);
      EXPECT_EQ(png[pos + 16], 8);
      EXPECT_EQ(png[pos + 17], 2);
    }
    if (type == "IDAT") idat += png.substr(pos + 8, len);
    pos += 12 + len;
  }
  EXPECT_EQ(pos, png.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));

  ASSERT_GE(idat.size(), 6u);
  EXPECT_EQ((static_cast<uint8_t>(idat[0]) * 256 + static_cast<uint8_t>(idat[1])) % 31, 0);
  std::string raw;
  size_t at = 2;
  bool final = false;
  int blocks = 0;
  while (!final) {
    final = idat[at] & 1;
    EXPECT_EQ((idat[at] >> 1) & 3, 0);  // stored
    const uint16_t len = static_cast<uint8_t>(idat[at + 1]) | (static_cast<uint8_t>(idat[at + 2]) << 8);
    const uint16_t nlen = static_cast<uint8_t>(idat[at + 3]) | (static_cast<uint8_t>(idat[at + 4]) << 8);
    EXPECT_EQ(static_cast<uint16_t>(~len), nlen);
    raw += idat.substr(at + 5, len);
    at += 5 + len;
    ++blocks;
  }
  EXPECT_EQ(blocks, 2);
  EXPECT_EQ(raw.size(), size * (1 + 3 * size));
  EXPECT_EQ(be32(idat, at), adler32(bytes(raw, 0, raw.size())));
  // Pixel (x=3, y=1): filter byte, then RGB of 3 * 256 + 1 = 0x000301.
  const size_t row = 1 + 3 * size;
  EXPECT_EQ(raw[row], 0);
  EXPECT_EQ(raw[row + 1 + 9], 0x00);
  EXPECT_EQ(raw[row + 1 + 10], 0x03);
  EXPECT_EQ(raw[row + 1 + 11], 0x01);
}

TEST(PngImage, DemoImagesDifferBySeedAndAreDeterministic) {
  EXPECT_EQ(makeDemoPng(1), makeDemoPng(1));
  EXPECT_NE(makeDemoPng(1), makeDemoPng(2));
}

}  // namespace
}  // namespace ec::demo
