#pragma once
// Running the laplex programs from tests as a user would: a shell command
// line, its exit code and everything it printed (stdout and stderr).
#include <string>

namespace laplex::testing {

struct CommandResult {
  int exit_code;
  std::string output;
};

CommandResult run_command(const std::string& command);

// build/bin/<name> of this build tree.
std::string program_path(const std::string& name);

}  // namespace laplex::testing
