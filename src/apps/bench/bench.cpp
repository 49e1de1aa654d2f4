#include "apps/bench/bench.h"

#include <algorithm>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

namespace laplex::bench {

namespace {
// Filled during static initialisation only, read-only afterwards.
std::map<std::string, RegisteredBench>& table() {
  static std::map<std::string, RegisteredBench> benches;
  return benches;
}
}  // namespace

BenchRegistration::BenchRegistration(const std::string& name, const std::string& description,
                                     BenchSetup setup) {
  table()[name] = {name, description, std::move(setup)};
}

std::vector<RegisteredBench> registered_benches() {
  std::vector<RegisteredBench> out;
  for (auto& [name, bench] : table()) out.push_back(bench);
  return out;
}

namespace {

std::vector<std::string> split_items(const std::string& flag, const std::vector<std::string>& values) {
  std::vector<std::string> items;
  for (const std::string& value : values) {
    std::size_t begin = 0;
    for (;;) {
      const std::size_t comma = value.find(',', begin);
      const std::string item = value.substr(begin, comma == std::string::npos ? comma : comma - begin);
      if (item.empty()) throw CLI::ValidationError(flag, "empty item in '" + value + "'");
      items.push_back(item);
      if (comma == std::string::npos) break;
      begin = comma + 1;
    }
  }
  return items;
}

std::int64_t integer_item(const std::string& flag, const std::string& item) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
  if (error == std::errc::result_out_of_range)
    throw CLI::ValidationError(flag, item + " is out of range");
  if (error != std::errc() || end != item.data() + item.size())
    throw CLI::ValidationError(flag, "expected integers, got '" + item + "'");
  return value;
}

}  // namespace

CLI::Option* add_list_option(CLI::App& command, const std::string& flag,
                             std::vector<std::string>& items, const std::string& help) {
  return command.add_option_function<std::vector<std::string>>(
      flag, [flag, &items](const std::vector<std::string>& values) { items = split_items(flag, values); },
      help);
}

CLI::Option* add_list_option(CLI::App& command, const std::string& flag,
                             std::vector<std::int64_t>& items, const std::string& help) {
  return command.add_option_function<std::vector<std::string>>(
      flag,
      [flag, &items](const std::vector<std::string>& values) {
        std::vector<std::int64_t> parsed;
        for (const std::string& item : split_items(flag, values)) parsed.push_back(integer_item(flag, item));
        items = parsed;
      },
      help)->type_name("INT");
}

double median_ms(const std::function<void()>& fn, int repeats, int warmup,
                 const std::function<void()>& sync) {
  for (int i = 0; i < warmup; ++i) fn();
  if (sync) sync();
  std::vector<double> times;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    if (sync) sync();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<double> interleaved_medians_ms(const std::vector<std::function<void()>>& fns,
                                           int repeats, int warmup) {
  for (int i = 0; i < warmup; ++i)
    for (const auto& fn : fns) fn();
  std::vector<std::vector<double>> times(fns.size());
  for (int i = 0; i < std::max(repeats, 1); ++i)
    for (std::size_t f = 0; f < fns.size(); ++f) {
      const auto start = std::chrono::steady_clock::now();
      fns[f]();
      times[f].push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
  std::vector<double> medians;
  for (auto& t : times) {
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

void print_rows(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& columns,
                bool json) {
  if (json) {
    for (const auto& row : rows) std::printf("%s\n", row.dump().c_str());
    return;
  }
  auto cell_text = [](const nlohmann::json& row, const std::string& column) {
    const auto it = row.find(column);
    if (it == row.end() || it->is_null()) return std::string("-");
    if (it->is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4g", it->get<double>());
      return std::string(buf);
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  // Each column as wide as its name and its widest cell, at least 12.
  std::vector<int> widths;
  for (const auto& c : columns) {
    std::size_t width = std::max<std::size_t>(12, c.size());
    for (const auto& row : rows) width = std::max(width, cell_text(row, c).size());
    widths.push_back(static_cast<int>(width) + 2);
  }
  for (std::size_t i = 0; i < columns.size(); ++i) std::printf("%*s", widths[i], columns[i].c_str());
  std::printf("\n");
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < columns.size(); ++i)
      std::printf("%*s", widths[i], cell_text(row, columns[i]).c_str());
    std::printf("\n");
  }
}

std::string peer_script(const std::string& file) {
  const std::string path = std::string(LAPLEX_SOURCE_DIR) + "/scripts/" + file;
  return std::filesystem::exists(path) ? path : "";
}

nlohmann::json run_python_peer(const std::string& python, const std::string& file,
                               const std::vector<std::string>& args) {
  const std::string script = peer_script(file);
  std::vector<std::string> argv{python, script};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string out = script.empty() ? "" : run_program(argv);
  if (!out.empty()) {
    try {
      return nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
    }
  }
  std::fprintf(stderr, "laplex-bench: PyTorch peer %s unavailable (%s with torch needed)\n",
               file.c_str(), python.c_str());
  return nullptr;
}

// popen ran the command line through a shell: --python 'touch x; true'
// ran the touch, and a path with spaces broke. posix_spawnp takes the
// argument vector as it is.
std::string run_program(const std::vector<std::string>& argv) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
    if (got > 0) out.append(buffer, static_cast<std::size_t>(got));
    else if (got == 0 || errno != EINTR) break;
  }
  close(pipe_fds[0]);
  if (spawned != 0) return "";
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? out : "";
}

}  // namespace laplex::bench
