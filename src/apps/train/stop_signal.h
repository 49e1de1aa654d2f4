#pragma once
// SIGINT/SIGTERM handling for training: the first signal asks the loop to
// finish its current step, write a checkpoint and exit 0 (clusters preempt
// jobs with SIGTERM); a second one exits at once.
namespace laplex::train {

// Installs the handlers (idempotent). The flag they set is the one piece of
// process-wide mutable state here: a signal handler can reach nothing else.
void install_stop_handlers();
bool stop_requested();

}  // namespace laplex::train
