#pragma once
// A tiny PNG encoder for the demo origin's /static/images/ URLs: truecolour, 8 bits per
// channel, the image data in zlib *stored* blocks (no compression), with CRC-32 and Adler-32
// computed here. Enough to give a browser or an image tool a real, valid file without zlib.

#include <cstdint>
#include <span>
#include <string>

namespace ec::demo {

// CRC-32 (ISO 3309, as PNG chunks use it) and Adler-32 (RFC 1950), exposed for the tests.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);
uint32_t adler32(std::span<const uint8_t> bytes);

// Encodes a width x height RGB image whose pixels are `pixel(x, y)` as 0xRRGGBB.
template <typename PixelFn>
std::string encodePng(uint32_t width, uint32_t height, PixelFn pixel);

// A deterministic picture derived from `seed` (gradient plus a diagonal stripe), size x size.
std::string makeDemoPng(uint32_t seed, uint32_t size = 32);

namespace detail {
// Wraps raw scanlines (each prefixed with filter byte 0) into a complete PNG file.
std::string assemblePng(uint32_t width, uint32_t height, const std::string& scanlines);
}  // namespace detail

template <typename PixelFn>
std::string encodePng(uint32_t width, uint32_t height, PixelFn pixel) {
  std::string scanlines;
  scanlines.reserve(static_cast<size_t>(height) * (1 + 3 * static_cast<size_t>(width)));
  for (uint32_t y = 0; y < height; ++y) {
    scanlines.push_back('\0');  // filter type None
    for (uint32_t x = 0; x < width; ++x) {
      const uint32_t rgb = pixel(x, y);
      scanlines.push_back(static_cast<char>((rgb >> 16) & 0xff));
      scanlines.push_back(static_cast<char>((rgb >> 8) & 0xff));
      scanlines.push_back(static_cast<char>(rgb & 0xff));
    }
  }
  return detail::assemblePng(width, height, scanlines);
}

}  // namespace ec::demo
