#pragma once
// Checks on the bytes of a PNG/JPEG before stb_image (Debian's 2.27)
// decodes them, for the defects of that version a damaged file reaches:
//
//   jpeg_huffman_overflow(bytes)  true when a DHT segment stb would read
//       defines a Huffman table of more than 256 codes; stb writes those
//       past its 256-entry arrays (fixed upstream in 2.28)
//   drop_empty_idat(bytes)        removes the zero-length IDAT chunks that
//       come before any data; stb copies those from a null buffer
//
// Neither changes what a well-formed file decodes to.
#include <cstdint>
#include <vector>

namespace laplex::data {

bool jpeg_huffman_overflow(const std::vector<std::uint8_t>& bytes);
void drop_empty_idat(std::vector<std::uint8_t>& bytes);

}  // namespace laplex::data
