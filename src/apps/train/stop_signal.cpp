#include "apps/train/stop_signal.h"

#include <csignal>
#include <unistd.h>

namespace laplex::train {

namespace {

volatile std::sig_atomic_t stop_flag = 0;

extern "C" void handle_stop(int) {
  if (stop_flag) _exit(130);  // second signal: the user insists
  stop_flag = 1;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = handle_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return stop_flag != 0; }

}  // namespace laplex::train
