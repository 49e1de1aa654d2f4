#pragma once
// Exceptions that laplex throws. Apps map them to exit codes: a UsageError
// (bad config, flag, data file or checkpoint) exits 2, anything else 1.
#include <stdexcept>
#include <string>

namespace laplex {

// A mistake in what the caller asked for: wrong shapes, dtypes or devices,
// bad arguments. Library misuse, not user input.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A mistake in user input: a config key, a CLI flag, a data file, a checkpoint.
// The message is one line naming the file/key and what was expected.
class UsageError : public Error {
 public:
  using Error::Error;
};

// A device (a GPU) had no memory left for an allocation. The same work may
// fit when made smaller, so callers that size work themselves (benchmarks)
// catch this one and retry or skip; elsewhere it is an Error like any other.
class OutOfMemory : public Error {
 public:
  using Error::Error;
};

// Throws Error(message) when condition is false. The message is built by the
// caller only on failure when passed as a lambda; plain strings are fine for
// checks off the hot path.
inline void check(bool condition, const std::string& message) {
  if (!condition) throw Error(message);
}

}  // namespace laplex
