// laplex-bench OP [options]: microbenchmarks with a peer in the same run.
#include <CLI/CLI.hpp>

#include "apps/cli.h"

#include <cstdio>
#include <string>
#include <vector>

#include "apps/bench/bench.h"

namespace {

bool is_bench_name(const std::string& arg) {
  for (const auto& bench : laplex::bench::registered_benches())
    if (bench.name == arg) return true;
  return false;
}

// CLI11 converts and checks every value before it looks for --help, so
// "laplex --n abc --help" reported the value instead of the help. Help asked
// for anywhere wins: the arguments are cut down to the benchmark it follows
// (there are no top-level options), or to the top-level help.
std::vector<char*> help_only_arguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!laplex::apps::is_help_flag(argv[i])) continue;
    std::vector<char*> help{argv[0]};
    if (i > 1 && is_bench_name(argv[1])) help.push_back(argv[1]);
    help.push_back(argv[i]);
    return help;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"laplex-bench: time laplex ops next to a peer (BLAS, FFT, PyTorch) in one run",
               "laplex-bench"};
  app.require_subcommand(1);
  std::function<int()> run;
  for (const auto& bench : laplex::bench::registered_benches()) {
    CLI::App* command = app.add_subcommand(bench.name, bench.description);
    auto runner = bench.setup(*command);
    command->callback([&run, runner] { run = runner; });
  }
  std::vector<char*> help = help_only_arguments(argc, argv);
  if (!help.empty())
    return laplex::apps::parse_and_run(app, static_cast<int>(help.size()), help.data(),
                                       [&] { return run(); });
  // CLI11 reports an unknown benchmark, or an option before any (--version),
  // as a missing subcommand; name it.
  std::string names;
  for (const auto& bench : laplex::bench::registered_benches())
    names += (names.empty() ? "" : ", ") + bench.name;
  if (argc > 1 && !is_bench_name(argv[1])) {
    const char* what = argv[1][0] == '-' ? "option" : "benchmark";
    std::fprintf(stderr, "laplex-bench: unknown %s '%s' (expected a benchmark, one of %s)\n", what,
                 argv[1], names.c_str());
    return 2;
  }
  return laplex::apps::parse_and_run(app, argc, argv, [&] { return run(); });
}
