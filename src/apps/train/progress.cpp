#include "apps/train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace laplex::train {

Progress::Progress(std::int64_t total_steps, std::int64_t every, bool terminal)
    : total_(total_steps),
      every_(every > 0 ? every : 1),
      terminal_(terminal),
      start_(std::chrono::steady_clock::now()) {}

bool Progress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

double Progress::active_seconds() const {
  const auto now = pause_depth_ > 0 ? paused_since_ : std::chrono::steady_clock::now();
  return std::chrono::duration<double>(now - start_ - paused_total_).count();
}

double Progress::items_per_second() const {
  const double seconds = active_seconds();
  return seconds > 0 ? static_cast<double>(items_) / seconds : 0.0;
}

void Progress::pause() {
  if (pause_depth_++ == 0) paused_since_ = std::chrono::steady_clock::now();
}

void Progress::resume() {
  if (pause_depth_ == 0) return;
  if (--pause_depth_ == 0) paused_total_ += std::chrono::steady_clock::now() - paused_since_;
}

void Progress::update(std::int64_t step, std::int64_t epoch, double loss, std::int64_t items) {
  items_ += items;
  ++steps_;
  const double per_step = active_seconds() / static_cast<double>(steps_);
  const double eta = per_step * static_cast<double>(total_ > step ? total_ - step : 0);
  if (terminal_) {
    const int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * step / total_) : 0;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] step %lld/%lld epoch %lld loss %.4f %.0f items/s ETA %.0fs   ",
                 bar.c_str(), static_cast<long long>(step), static_cast<long long>(total_),
                 static_cast<long long>(epoch), loss, items_per_second(), eta);
    std::fflush(stderr);
  } else if (step % every_ == 0 || step == total_) {
    std::fprintf(stderr, "step %lld/%lld epoch %lld loss %.4f %.0f items/s ETA %.0fs\n",
                 static_cast<long long>(step), static_cast<long long>(total_),
                 static_cast<long long>(epoch), loss, items_per_second(), eta);
  }
}

void Progress::finish() {
  if (terminal_) std::fprintf(stderr, "\n");
}

}  // namespace laplex::train
