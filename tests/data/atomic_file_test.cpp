// write_file_atomically: a regular file is replaced whole; a link's target is
// written, not the link replaced; a device or pipe (/dev/null, a FIFO) is
// written in place, never replaced by a file; a directory is an error.
#include "data/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.h"
#include "helpers/temp_dir.h"

namespace laplex::data {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) { return testing::fresh_temp_dir("atomic_" + name); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  write_file_atomically(path, std::span<const std::uint8_t>(bytes, text.size()));
}

TEST(AtomicFile, ReplacesARegularFileWholeAndLeavesNoTemporary) {
  const fs::path dir = temp_dir("regular");
  const fs::path file = dir / "out.bin";
  write_text(file.string(), "old contents");
  write_text(file.string(), "new");
  EXPECT_EQ(read_text(file), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(AtomicFile, WritesTheTargetOfASymbolicLink) {
  const fs::path dir = temp_dir("link");
  fs::create_directories(dir / "real");
  write_text((dir / "real" / "target.npy").string(), "old");
  fs::create_symlink("real/target.npy", dir / "link.npy");
  write_text((dir / "link.npy").string(), "new");
  EXPECT_TRUE(fs::is_symlink(dir / "link.npy"));
  EXPECT_EQ(read_text(dir / "real" / "target.npy"), "new");
  // A link to a file that does not exist yet creates that file.
  fs::create_symlink("real/later.npy", dir / "dangling.npy");
  write_text((dir / "dangling.npy").string(), "made");
  EXPECT_TRUE(fs::is_symlink(dir / "dangling.npy"));
  EXPECT_EQ(read_text(dir / "real" / "later.npy"), "made");
}

TEST(AtomicFile, WritesDevicesAndPipesInPlace) {
  const fs::path dir = temp_dir("device");
  // A private null device (a test that regressed must not replace the real
  // /dev/null); making one needs root, as CI runs.
  const fs::path null_device = dir / "null";
  if (::mknod(null_device.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0) {
    write_text(null_device.string(), "discarded");
    struct stat info {};
    ASSERT_EQ(::stat(null_device.c_str(), &info), 0);
    EXPECT_TRUE(S_ISCHR(info.st_mode)) << "the device node was replaced by a file";
  }
  const fs::path fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string got;
  std::thread reader([&] { got = read_text(fifo); });
  write_text(fifo.string(), "through the pipe");
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  EXPECT_TRUE(fs::is_fifo(fifo));
}

TEST(AtomicFile, ADirectoryIsAUsageErrorNamingIt) {
  const fs::path dir = temp_dir("directory");
  try {
    write_text(dir.string(), "x");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_directory(dir));
}

}  // namespace
}  // namespace laplex::data
