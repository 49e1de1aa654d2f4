#include "data/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

// The file a path names once its symbolic links are followed (a link that
// points nowhere yet names the path it points to): renaming over the link
// itself would replace the link and leave its target stale.
fs::path follow_links(fs::path path) {
  std::error_code ec;
  for (int hops = 0; hops < 40 && fs::is_symlink(path, ec); ++hops) {
    const fs::path next = fs::read_symlink(path, ec);
    if (ec) break;
    path = next.is_absolute() ? next : path.parent_path() / next;
  }
  return path;
}

void write_all(int fd, std::initializer_list<std::span<const std::uint8_t>> parts,
               const std::function<void(const std::string&)>& fail) {
  for (const auto& bytes : parts) {
    std::size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t got = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) fail("write failed");
      written += static_cast<std::size_t>(got);
    }
  }
}

// A device, pipe or socket (/dev/null, /dev/stdout, a FIFO) is written as
// it is, as a shell redirection would: renaming a file over it would
// replace the device node.
void write_in_place(const std::string& path,
                    std::initializer_list<std::span<const std::uint8_t>> parts) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) throw UsageError(path + ": cannot open for writing: " + reason());
  write_all(fd, parts, [&](const std::string& what) {
    const std::string message = path + ": " + what + ": " + reason();
    ::close(fd);
    throw UsageError(message);
  });
  if (::close(fd) != 0) throw UsageError(path + ": close failed: " + reason());
}

}  // namespace

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  write_file_atomically(path, {bytes});
}

void write_file_atomically(const std::string& asked,
                           std::initializer_list<std::span<const std::uint8_t>> parts) {
  const fs::path target = follow_links(asked);
  const std::string path = target.string();
  std::error_code ec;
  const fs::file_status status = fs::status(target, ec);
  if (fs::is_directory(status)) throw UsageError(asked + ": is a directory, expected a file");
  if (fs::exists(status) && !fs::is_regular_file(status)) return write_in_place(path, parts);
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
  write_all(fd, parts, fail);
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
