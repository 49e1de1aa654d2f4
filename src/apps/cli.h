#pragma once
// What every laplex command does around its work: parse the flags (CLI11),
// then run, turning failures into the documented exit codes: 0 success,
// 2 usage/config/data errors (one line naming the problem), 1 anything else.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace laplex::apps {

int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

// -h or --help: asked for anywhere on the command line, help wins over
// the other values (CLI11 checks those first).
bool is_help_flag(const std::string& arg);

// A check for options whose empty value would silently mean "not given"
// (--resume '' started a fresh run).
CLI::Validator non_empty();

}  // namespace laplex::apps
