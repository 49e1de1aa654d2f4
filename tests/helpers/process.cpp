#include "helpers/process.h"

#include <sys/wait.h>

#include <cstdio>

namespace laplex::testing {

CommandResult run_command(const std::string& command) {
  const std::string line = command + " 2>&1";
  FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string out;
  char buffer[1024];
  while (fgets(buffer, sizeof buffer, pipe)) out += buffer;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string program_path(const std::string& name) {
  return std::string(LAPLEX_BINARY_DIR) + "/bin/" + name;
}

}  // namespace laplex::testing
