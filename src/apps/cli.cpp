#include "apps/cli.h"

#include <malloc.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace laplex::apps {

namespace {

// A training step frees and reallocates the same few hundred-kilobyte to
// megabyte tensors every time. glibc serves such blocks with mmap or trims
// them back to the kernel, so each step pays fresh page faults (6% of a
// 784-256-10 MLP step in perf; the step is 18% faster without them).
// Serving blocks up to 64 MB from the heap and trimming only past 256 MB
// free keeps them for reuse: a process setting, so the programs make it,
// not the library.
void keep_freed_host_memory_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int out_of_memory(const std::string& name) {
  std::fprintf(stderr,
               "%s: error: out of memory: the sizes asked for (model, batch or data) need more "
               "memory than this machine has\n",
               name.c_str());
  return 1;
}

}  // namespace

CLI::Validator non_empty() {
  return CLI::Validator(
      [](std::string& value) { return value.empty() ? std::string("must not be empty") : std::string(); },
      "", "NON_EMPTY");
}

bool is_help_flag(const std::string& arg) { return arg == "-h" || arg == "--help"; }

int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  keep_freed_host_memory_for_reuse();
  const std::string name = app.get_name().empty() ? "laplex" : app.get_name();
  // CLI11 converts and checks every value before it looks for --help, so
  // "--config '' --help" reported the value instead of the help: asked for
  // anywhere, help wins. (laplex-bench, with a command per benchmark, cuts
  // its arguments down to the benchmark's own help itself.)
  if (app.get_subcommands({}).empty())
    for (int i = 1; i < argc; ++i)
      if (is_help_flag(argv[i])) {
        std::fputs(app.help().c_str(), stdout);
        return 0;
      }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", name.c_str(), e.what());
    return 2;
  }
  try {
    const int code = body();
    // Results go to standard output, often a file (--json > result.json):
    // a write that failed there (a full disk) must not end in exit 0 with
    // an empty or cut file.
    std::cout.flush();
    if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
      std::fprintf(stderr, "%s: error: standard output: write failed (%s)\n", name.c_str(),
                   std::strerror(errno));
      return code == 0 ? 1 : code;
    }
    return code;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    return out_of_memory(name);
  } catch (const std::length_error&) {  // a container asked for more than it can ever hold
    return out_of_memory(name);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
}

}  // namespace laplex::apps
