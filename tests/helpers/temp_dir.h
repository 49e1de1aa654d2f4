#pragma once
// A scratch folder for one test: <system temp>/laplex_<name>, emptied and
// created anew. Tests run as separate processes in parallel, so each test
// passes a name of its own.
#include <filesystem>
#include <string>

namespace laplex::testing {

std::filesystem::path fresh_temp_dir(const std::string& name);

}  // namespace laplex::testing
