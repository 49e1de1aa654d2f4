#include "data/image_preflight.h"

#include <algorithm>
#include <cstddef>

namespace laplex::data {

namespace {

// stb reads zeros past the end of the file; so does this.
std::uint32_t byte_at(const std::vector<std::uint8_t>& b, std::size_t at) {
  return at < b.size() ? b[at] : 0;
}

std::uint32_t be16(const std::vector<std::uint8_t>& b, std::size_t at) {
  return byte_at(b, at) << 8 | byte_at(b, at + 1);
}

std::uint32_t be32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return be16(b, at) << 16 | be16(b, at + 2);
}

// The tables of the DHT segment whose length field is at `at`, walked as
// stb's stbi__process_marker walks them (it stops at a bad table class).
bool dht_overflows(const std::vector<std::uint8_t>& b, std::size_t at) {
  long left = static_cast<long>(be16(b, at)) - 2;
  std::size_t p = at + 2;
  while (left > 0 && p < b.size()) {
    const std::uint32_t q = byte_at(b, p++);
    if ((q >> 4) > 1 || (q & 15) > 3) return false;
    long codes = 0;
    for (int i = 0; i < 16; ++i) codes += byte_at(b, p++);
    if (codes > 256) return true;
    p += static_cast<std::size_t>(codes);
    left -= 17 + codes;
  }
  return false;
}

}  // namespace

// Up to the first scan, stb follows the segment lengths, as this walk does,
// so the payloads of APPn and COM segments (ICC profiles, EXIF) are never
// read as markers. Where a scan's entropy-coded data ends depends on the
// decoding, so from there every FF C4 is checked: valid data stuffs each
// FF with a 00, and anything else is a damaged file.
bool jpeg_huffman_overflow(const std::vector<std::uint8_t>& b) {
  if (b.size() < 2 || b[0] != 0xFF || b[1] != 0xD8) return false;
  std::size_t p = 2;
  while (p < b.size()) {
    while (p < b.size() && b[p] != 0xFF) ++p;  // stb skips junk between segments
    while (p < b.size() && b[p] == 0xFF) ++p;  // and fill bytes
    if (p >= b.size()) return false;
    const std::uint8_t marker = b[p++];
    if (marker == 0xD9) return false;  // EOI
    if (marker == 0xDA) break;         // SOS: entropy-coded data follows
    if (marker == 0xC4 && dht_overflows(b, p)) return true;
    p += be16(b, p);
  }
  for (std::size_t i = p; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC4 && dht_overflows(b, i + 2)) return true;
  return false;
}

void drop_empty_idat(std::vector<std::uint8_t>& b) {
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 8 || !std::equal(kSignature, kSignature + 8, b.begin())) return;
  constexpr std::uint32_t kIdat = 0x49444154, kIend = 0x49454E44;
  std::size_t p = 8;
  while (p + 8 <= b.size()) {
    const std::uint32_t length = be32(b, p), type = be32(b, p + 4);
    if (type == kIend || length > b.size() - p - 8) return;
    if (type == kIdat && length > 0) return;  // stb has a buffer from here on
    if (type == kIdat) {
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(p),
              b.begin() + static_cast<std::ptrdiff_t>(std::min(p + 12, b.size())));
      continue;
    }
    p += 12 + length;
  }
}

}  // namespace laplex::data
