#pragma once
// Progress reporting: a live bar (step, loss, items/s, ETA) redrawn in place
// when stderr is a terminal, plain log lines every `every` steps otherwise
// (files and cluster logs do not want carriage returns).
#include <chrono>
#include <cstdint>
#include <string>

namespace laplex::train {

class Progress {
 public:
  Progress(std::int64_t total_steps, std::int64_t every, bool terminal);
  // Called after each step with the items (examples) it processed.
  void update(std::int64_t step, std::int64_t epoch, double loss, std::int64_t items);
  void finish();
  // Training throughput: items over the seconds spent in steps, so an
  // evaluation or a checkpoint (bracketed by pause/resume, which nest) does
  // not count.
  double items_per_second() const;
  void pause();
  void resume();
  static bool stderr_is_terminal();

 private:
  std::int64_t total_, every_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::duration paused_total_{0};
  std::chrono::steady_clock::time_point paused_since_;
  int pause_depth_ = 0;
  std::int64_t items_ = 0, steps_ = 0;

  double active_seconds() const;
};

}  // namespace laplex::train
