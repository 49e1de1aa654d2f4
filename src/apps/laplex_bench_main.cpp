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
  return laplex::apps::parse_and_run(app, argc, argv, [&] { return run(); });
}
