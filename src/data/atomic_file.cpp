#include "data/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace laplex::data {

namespace {

namespace fs = std::filesystem;

std::string reason() { return std::strerror(errno); }

// The rename is durable only once the directory entry itself is on disk.
void sync_directory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // some file systems do not allow it; the data is already synced
  ::fsync(fd);
  ::close(fd);
}

// Read, not set-and-restored with umask(), which would race with other threads.
mode_t process_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Umask:", 0) == 0)
      return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  return 022;
}

}  // namespace

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  write_file_atomically(path, {bytes});
}

void write_file_atomically(const std::string& path,
                           std::initializer_list<std::span<const std::uint8_t>> parts) {
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string hidden = ".";  // built in steps: GCC 12 warns falsely (-Wrestrict) on "." + string
  hidden += target.filename().string();
  hidden += ".tmp-XXXXXX";
  std::string temp = (directory / hidden).string();
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw UsageError(path + ": cannot create a temporary file beside it: " + reason());
  temp = name.data();
  auto fail = [&](const std::string& what) {
    const std::string message = path + ": " + what + ": " + reason();
    ::close(fd);
    ::unlink(temp.c_str());
    throw UsageError(message);
  };
  for (const auto& bytes : parts) {
    std::size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t got = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("write failed");
      written += static_cast<std::size_t>(got);
    }
  }
  // mkstemp makes the file 0600; give it the permissions an ordinary file would get.
  ::fchmod(fd, 0666 & ~process_umask());
  if (::fsync(fd) != 0) fail("fsync failed");
  if (::close(fd) != 0) {
    const std::string message = path + ": close failed: " + reason();
    ::unlink(temp.c_str());
    throw UsageError(message);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string message = path + ": cannot rename the temporary file over it: " + reason();
    ::unlink(temp.c_str());
    throw UsageError(message);
  }
  sync_directory(directory);
}

}  // namespace laplex::data
