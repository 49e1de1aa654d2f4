#pragma once
// Output files (arrays, pictures) are written whole or not at all: the bytes
// go to a temporary file in the destination's directory, which is synced and
// then renamed over the destination. A crash or a full disk leaves either the
// old file or the new one, never a half-written file that looks complete.
//
//   write_file_atomically(path, bytes)   throws UsageError naming path
//   write_file_atomically(path, parts)   the parts one after another (a header
//                                        and a tensor's bytes, without a copy)
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

namespace laplex::data {

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::string& path,
                           std::initializer_list<std::span<const std::uint8_t>> parts);

}  // namespace laplex::data
