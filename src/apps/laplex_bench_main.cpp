// laplex-bench OP [options]: microbenchmarks with a peer in the same run.
#include <CLI/CLI.hpp>

#include "apps/cli.h"

#include <cstdio>

#include "apps/bench/bench.h"

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
  // CLI11 reports an unknown benchmark as a missing subcommand; name it.
  std::string names;
  bool known = false;
  for (const auto& bench : laplex::bench::registered_benches()) {
    names += (names.empty() ? "" : ", ") + bench.name;
    known = known || (argc > 1 && bench.name == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "laplex-bench: unknown benchmark '%s' (expected one of %s)\n", argv[1],
                 names.c_str());
    return 2;
  }
  return laplex::apps::parse_and_run(app, argc, argv, [&] { return run(); });
}
