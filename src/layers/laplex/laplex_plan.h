#pragma once
// The sort plan of a LAPLEX call: per head, the merged order of targets and
// sources (ascending positions; at equal positions sources before targets,
// laplex-math.md section 2) and the gaps between consecutive events. One
// plan serves the forward, the transposed apply and the backward of the same
// anchors: nothing is re-sorted.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "layers/laplex/laplex_shape.h"

namespace laplex {

// Bit set in an event code for a target (row); the low 31 bits are the index.
inline constexpr std::uint32_t kLaplexTargetBit = 0x80000000u;

// Scratch that the CPU kernels of one plan hand on to each other (the
// forward, then the backward of the same step), and that a layer hands on
// from one step to the next: fresh pages cost a fault and a clear each, a
// sixth of the backward and a quarter of the forward at n = 2^20. One call
// at a time borrows it (a concurrent one allocates its own).
struct LaplexScratchPool {
  struct Free {
    void operator()(std::byte* p) const;
  };
  // What a thread keeps: the scans' lane rows, and the backward's per-event
  // sums (which outlive the scans: the parameter gradients read them); and
  // the sort's items (one buffer, thread 0's, for all sides).
  enum Slot { kLanes = 0, kSums = 1, kSort = 2, kSlots = 3 };
  std::mutex mutex;
  std::vector<std::unique_ptr<std::byte, Free>> buffers[kSlots];  // one per thread
  std::vector<std::size_t> bytes[kSlots];
  // The rows a forward keeps for its backward (LaplexSaved in laplex_cpu.h)
  // while no forward holds them: they outlive a call, so they are lent out
  // and handed back rather than borrowed under the mutex.
  std::unique_ptr<std::byte, Free> saved;
  std::size_t saved_bytes = 0;
};

template <class T>
struct LaplexPlan {
  std::int64_t m = 0, n = 0, heads = 0;
  // Per head, m + n entries each, head h at offset h * (m + n).
  std::vector<std::uint32_t> code;  // event k: target index | kLaplexTargetBit, or source index
  std::vector<T> gap;               // position of event k minus that of event k - 1 (0 for k = 0)
  double sort_ms = 0;               // wall time spent building the plan
  std::shared_ptr<LaplexScratchPool> scratch = std::make_shared<LaplexScratchPool>();

  std::int64_t events() const { return m + n; }
};

// Sorts every head's anchors t (H, m) and s (H, n). Throws Error on a
// non-finite anchor. The plan's kernels use `scratch` when given (a pool
// that outlives the plan, e.g. a layer's), fresh scratch otherwise.
template <class T>
LaplexPlan<T> make_laplex_plan(const LaplexShape& shape, const T* t, const T* s,
                               std::shared_ptr<LaplexScratchPool> scratch = nullptr);

}  // namespace laplex
