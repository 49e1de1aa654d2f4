#include "apps/cli.h"

#include <cstdio>
#include <exception>

#include "core/error.h"

namespace laplex::apps {

int parse_and_run(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  const std::string name = app.get_name().empty() ? "laplex" : app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", name.c_str(), e.what());
    return 2;
  }
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
    return 1;
  }
}

}  // namespace laplex::apps
