#pragma once
// Whether ops record a backward graph on this thread. Evaluation code and
// backward passes turn it off with a NoGradGuard.
namespace laplex::autograd {

bool grad_enabled();
void set_grad_enabled(bool enabled);

class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace laplex::autograd

namespace laplex {
using autograd::NoGradGuard;
}
