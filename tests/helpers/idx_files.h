#pragma once
// Unsigned-byte IDX files (the MNIST format) written by tests: a big-endian
// magic 0x000008<rank>, the dims, then `data` as it is (short or long data
// make malformed files on purpose).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace laplex::testing {

std::string idx_file_bytes(const std::vector<std::uint32_t>& dims, const std::string& data);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

// {train,t10k}-images-idx3-ubyte and -labels-idx1-ubyte (plain, not gzip)
// under dir for one split ("train" or "t10k"): `count` images of
// height x width with pixel values and labels cycling through 0..9.
void write_mnist_split(const std::filesystem::path& dir, const std::string& prefix,
                       std::uint32_t count, std::uint32_t height, std::uint32_t width);

}  // namespace laplex::testing
