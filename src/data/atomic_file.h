#pragma once
// Output files (arrays, pictures) are written whole or not at all: the bytes
// go to a temporary file in the destination's directory, which is synced and
// then renamed over the destination. A crash or a full disk leaves either the
// old file or the new one, never a half-written file that looks complete.
//
//   write_file_atomically(path, bytes)   throws UsageError naming path
#include <cstdint>
#include <span>
#include <string>

namespace laplex::data {

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace laplex::data
