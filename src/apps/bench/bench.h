#pragma once
// laplex-bench: each benchmark registers a subcommand from its own file
// (like layers do), so the main stays a dispatcher. A benchmark reports
// rows: medians of repeated timings next to a peer measured in the same run.
#include <CLI/CLI.hpp>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace laplex::bench {

// The most CPU threads a --threads option takes: asking OpenMP for more
// threads than the machine can start crashes its runtime.
inline constexpr int kMaxBenchThreads = 1024;

// List options take separate values, comma-separated ones or both
// ("--n 784 8192", "--n 784,8192"). They are split here, not by CLI11's
// delimiter, which drops empty items: "--sizes 1,,2" ran two sizes without
// a word. An empty item or a value that is not an integer is a parse error
// naming the flag (exit 2). The defaults stay when the flag is not given.
CLI::Option* add_list_option(CLI::App& command, const std::string& flag,
                             std::vector<std::string>& items, const std::string& help);
CLI::Option* add_list_option(CLI::App& command, const std::string& flag,
                             std::vector<std::int64_t>& items, const std::string& help);

// Adds its options to `command` and returns the function that runs it.
using BenchSetup = std::function<std::function<int()>(CLI::App& command)>;

struct BenchRegistration {
  BenchRegistration(const std::string& name, const std::string& description, BenchSetup setup);
};

struct RegisteredBench {
  std::string name, description;
  BenchSetup setup;
};
std::vector<RegisteredBench> registered_benches();

// Median wall time in milliseconds of `repeats` calls of fn after `warmup`
// calls; `sync` (if set) runs after each call, inside the timing (GPU work).
double median_ms(const std::function<void()>& fn, int repeats, int warmup,
                 const std::function<void()>& sync = {});

// Median wall times in milliseconds of several functions timed in turns:
// each round (after `warmup` untimed rounds) calls fns[0], fns[1], ... once,
// so a peer and the code it is compared with see the same machine even when
// its speed drifts between rounds (a shared VM's does, by up to 3x within
// minutes). One median per function.
std::vector<double> interleaved_medians_ms(const std::vector<std::function<void()>>& fns,
                                           int repeats, int warmup);

// Prints rows as JSON Lines (json) or as an aligned table of `columns`.
void print_rows(const std::vector<nlohmann::json>& rows, const std::vector<std::string>& columns,
                bool json);

// The path of a peer script in the source tree's scripts/ folder (the binary
// sits in build/bin); empty when it is not there.
std::string peer_script(const std::string& file);

// Runs `python scripts/<file> args...` (a PyTorch peer) and parses the JSON
// line it prints; null (after a warning on stderr) when the script or
// python with torch is missing or it failed.
nlohmann::json run_python_peer(const std::string& python, const std::string& file,
                               const std::vector<std::string>& args);

// Runs argv[0] (searched in PATH when it has no slash) with these
// arguments, without a shell, its stderr discarded; returns its standard
// output, empty when it could not start or did not exit 0.
std::string run_program(const std::vector<std::string>& argv);

}  // namespace laplex::bench
