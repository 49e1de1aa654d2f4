// laplex-bench OP [options]: microbenchmarks with a peer in the same run.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "apps/bench/bench.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"laplex-bench: time laplex ops next to a peer (BLAS, FFT, PyTorch) in one run"};
  app.require_subcommand(1);
  std::function<int()> run;
  for (const auto& bench : laplex::bench::registered_benches()) {
    CLI::App* command = app.add_subcommand(bench.name, bench.description);
    auto runner = bench.setup(*command);
    command->callback([&run, runner] { run = runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "laplex-bench: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return run();
  } catch (const laplex::UsageError& e) {
    std::fprintf(stderr, "laplex-bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "laplex-bench: %s\n", e.what());
    return 1;
  }
}
