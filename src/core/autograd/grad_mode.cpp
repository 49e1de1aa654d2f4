#include "core/autograd/grad_mode.h"

namespace laplex::autograd {

namespace {
// Per thread, like PyTorch: a data-loader thread never sees the trainer's mode.
thread_local bool grad_mode_enabled = true;
}  // namespace

bool grad_enabled() { return grad_mode_enabled; }
void set_grad_enabled(bool enabled) { grad_mode_enabled = enabled; }

}  // namespace laplex::autograd
